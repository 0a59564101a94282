// The registry: versioned, immutable specs (pipeline configs, prompt
// templates, model routes) with content hashes, lineage, linked eval runs and
// movable aliases such as `production` and `staging`.

export const REGISTRY_KINDS = ["pipeline", "prompt", "route"] as const;
export type RegistryKind = (typeof REGISTRY_KINDS)[number];

/** One immutable version of an entry. */
export interface RegistryVersion {
  kind: RegistryKind;
  name: string;
  /** 1, 2, 3... within (kind, name). */
  version: number;
  /** sha256 (hex) of the spec's canonical JSON. */
  hash: string;
  parentVersion: number | null;
  /** An API key id, `config` for versions seeded from the config file, or `cli:<user>`. */
  createdBy: string;
  createdAt: number;
  note?: string;
  spec: unknown;
  /** Eval run ids linked to this version (oldest first). */
  evalRuns: string[];
}

/** An entry of the registry list. */
export interface RegistryEntry {
  kind: RegistryKind;
  name: string;
  latestVersion: number;
  aliases: Record<string, number>;
}

export interface NewVersion {
  kind: RegistryKind;
  name: string;
  spec: unknown;
  hash: string;
  /** undefined: the latest version (null for the first); a number must exist. */
  parentVersion?: number | null;
  createdBy: string;
  note?: string;
}

export interface AliasMove {
  /** False when `expect` did not match the alias's current version (nothing changed). */
  ok: boolean;
  /** The alias's version before the call (undefined when it did not exist). */
  previous: number | undefined;
  aliases: Record<string, number>;
}

/**
 * Durable registry state. Versions are append-only; a spec whose hash already
 * exists under (kind, name) returns that version (`created: false`).
 */
export interface RegistryStore {
  addVersion(v: NewVersion): Promise<{ version: RegistryVersion; created: boolean }>;
  getVersion(kind: RegistryKind, name: string, version: number): Promise<RegistryVersion | undefined>;
  /** Every version, oldest first. */
  versions(kind: RegistryKind, name: string): Promise<RegistryVersion[]>;
  aliases(kind: RegistryKind, name: string): Promise<Record<string, number>>;
  list(kind?: RegistryKind): Promise<RegistryEntry[]>;
  /**
   * Points `alias` at `version` atomically. With `expect` (a version, or null
   * for "the alias does not exist yet") it is a compare-and-set.
   * Throws NotFound when the version does not exist.
   */
  setAlias(kind: RegistryKind, name: string, alias: string, version: number, opts?: { expect?: number | null }): Promise<AliasMove>;
  /** Throws NotFound when the version does not exist. Idempotent. */
  linkEvalRun(kind: RegistryKind, name: string, version: number, runId: string): Promise<RegistryVersion>;
}
