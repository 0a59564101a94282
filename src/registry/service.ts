// Registry operations with validation: adding versions (spec normalised and
// hashed), moving aliases, linking eval runs, and seeding the pipelines of
// the config file at start.
import type { PipelineConfig } from "../config/schema.js";
import type { Logger } from "../ops/logger.js";
import { contentHash } from "./content-hash.js";
import { checkAliasName, checkEntryName, ENTRY_NAME, normalizeSpec, type SpecChecks } from "./specs.js";
import type { AliasMove, RegistryKind, RegistryStore, RegistryVersion } from "./types.js";

export const PRODUCTION_ALIAS = "production";
/** Tracks the version the config file described at the last start. */
export const CONFIG_ALIAS = "config";
export const CONFIG_CREATOR = "config";

export interface AddVersionInput {
  spec: unknown;
  parentVersion?: number | null;
  note?: string;
  createdBy: string;
}

export interface SeedOutcome {
  name: string;
  version: number;
  hash: string;
  created: boolean;
  /** Where `production` points after seeding. */
  production: number;
}

export class RegistryService {
  constructor(
    readonly store: RegistryStore,
    private readonly checks: SpecChecks = {},
    /** Called after every write of this process (serving caches forget what they knew). */
    private readonly onChange: () => void = () => {},
  ) {}

  async addVersion(kind: RegistryKind, name: string, input: AddVersionInput): Promise<{ version: RegistryVersion; created: boolean }> {
    checkEntryName(name);
    const spec = normalizeSpec(kind, name, input.spec, this.checks);
    const out = await this.store.addVersion({
      kind,
      name,
      spec,
      hash: contentHash(spec),
      createdBy: input.createdBy,
      ...(input.parentVersion !== undefined ? { parentVersion: input.parentVersion } : {}),
      ...(input.note !== undefined ? { note: input.note } : {}),
    });
    if (out.created) this.onChange();
    return out;
  }

  async setAlias(kind: RegistryKind, name: string, alias: string, version: number, opts: { expect?: number | null } = {}): Promise<AliasMove> {
    checkEntryName(name);
    checkAliasName(alias);
    const out = await this.store.setAlias(kind, name, alias, version, opts);
    if (out.ok) this.onChange();
    return out;
  }

  linkEvalRun(kind: RegistryKind, name: string, version: number, runId: string): Promise<RegistryVersion> {
    return this.store.linkEvalRun(kind, name, version, runId);
  }

  /**
   * The config file's pipelines become registry versions. A changed pipeline
   * becomes a new version whose parent is the latest; an unchanged one (or one
   * equal to any earlier version) reuses that version. `production` follows the
   * config only while nobody moved it: it is set when missing, and moved to
   * the config's version when it still points where the config alias pointed
   * (the config's previous version). After a rollout or an API call moved it,
   * it stays, and the log says which version the config now describes.
   */
  async seedPipelines(pipelines: readonly PipelineConfig[], log?: Logger): Promise<SeedOutcome[]> {
    const out: SeedOutcome[] = [];
    for (const p of pipelines) {
      if (!ENTRY_NAME.test(p.name)) {
        log?.warn({ pipeline: p.name }, "pipeline name cannot be a registry entry (it contains @, / or is too long); served from the config only");
        continue;
      }
      const { version, created } = await this.addVersion("pipeline", p.name, { spec: p, createdBy: CONFIG_CREATOR, note: "from the config file" });
      const aliases = await this.store.aliases("pipeline", p.name);
      const production = aliases[PRODUCTION_ALIAS];
      const followed = production === undefined || production === aliases[CONFIG_ALIAS];
      let now = production ?? version.version;
      if (followed && production !== version.version) {
        const moved = await this.setAlias("pipeline", p.name, PRODUCTION_ALIAS, version.version, { expect: production ?? null });
        if (moved.ok) now = version.version;
      } else if (!followed && production !== version.version) {
        log?.warn({ pipeline: p.name, production, config: version.version }, "the config describes another version than production (production was moved by a rollout or the API): it stays; roll the config's version out to serve it");
      }
      if (aliases[CONFIG_ALIAS] !== version.version) await this.setAlias("pipeline", p.name, CONFIG_ALIAS, version.version);
      if (created) log?.info({ pipeline: p.name, version: version.version, parent: version.parentVersion, hash: version.hash }, "registry: pipeline version from the config file");
      out.push({ name: p.name, version: version.version, hash: version.hash, created, production: now });
    }
    return out;
  }
}
