// RegistryStore on the SQLite file. Writes are IMMEDIATE transactions, so the
// CLI and a running server can add versions and move aliases side by side.
import { StratumError } from "../../core/errors.js";
import type { SqliteDb } from "../../data/index.js";
import type { AliasMove, NewVersion, RegistryEntry, RegistryKind, RegistryStore, RegistryVersion } from "../types.js";
import { applyRegistrySchema } from "./schema.js";

interface VersionRow {
  kind: string;
  name: string;
  version: number;
  hash: string;
  parent_version: number | null;
  created_by: string;
  created_at: number;
  note: string | null;
  spec: string;
}

export class SqliteRegistryStore implements RegistryStore {
  constructor(private readonly db: SqliteDb) {
    applyRegistrySchema(db);
  }

  async addVersion(v: NewVersion): Promise<{ version: RegistryVersion; created: boolean }> {
    const out = this.db
      .transaction((): { version: number; created: boolean } => {
        const same = this.db.prepare("SELECT version FROM registry_versions WHERE kind = ? AND name = ? AND hash = ?").get(v.kind, v.name, v.hash) as { version: number } | undefined;
        if (same) return { version: same.version, created: false };
        const latest = (this.db.prepare("SELECT MAX(version) AS v FROM registry_versions WHERE kind = ? AND name = ?").get(v.kind, v.name) as { v: number | null }).v;
        const parent = v.parentVersion === undefined ? latest : v.parentVersion;
        if (parent !== null && (latest === null || parent < 1 || parent > latest)) {
          throw new StratumError("InvalidRequest", `parent_version ${parent} does not exist for ${v.kind} "${v.name}"`, { param: "parent_version", code: "invalid_value" });
        }
        const version = (latest ?? 0) + 1;
        this.db
          .prepare("INSERT INTO registry_versions (kind, name, version, hash, parent_version, created_by, created_at, note, spec) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
          .run(v.kind, v.name, version, v.hash, parent, v.createdBy, Date.now(), v.note ?? null, JSON.stringify(v.spec));
        return { version, created: true };
      })
      .immediate();
    return { version: (await this.getVersion(v.kind, v.name, out.version))!, created: out.created };
  }

  async getVersion(kind: RegistryKind, name: string, version: number): Promise<RegistryVersion | undefined> {
    const row = this.db.prepare("SELECT * FROM registry_versions WHERE kind = ? AND name = ? AND version = ?").get(kind, name, version) as VersionRow | undefined;
    return row ? this.toVersion(row) : undefined;
  }

  async versions(kind: RegistryKind, name: string): Promise<RegistryVersion[]> {
    const rows = this.db.prepare("SELECT * FROM registry_versions WHERE kind = ? AND name = ? ORDER BY version").all(kind, name) as VersionRow[];
    return rows.map((r) => this.toVersion(r));
  }

  async aliases(kind: RegistryKind, name: string): Promise<Record<string, number>> {
    return this.aliasMap(kind, name);
  }

  async list(kind?: RegistryKind): Promise<RegistryEntry[]> {
    const rows = this.db
      .prepare(`SELECT kind, name, MAX(version) AS latest FROM registry_versions ${kind ? "WHERE kind = ?" : ""} GROUP BY kind, name ORDER BY kind, name`)
      .all(...(kind ? [kind] : [])) as Array<{ kind: RegistryKind; name: string; latest: number }>;
    return rows.map((r) => ({ kind: r.kind, name: r.name, latestVersion: r.latest, aliases: this.aliasMap(r.kind, r.name) }));
  }

  async setAlias(kind: RegistryKind, name: string, alias: string, version: number, opts: { expect?: number | null } = {}): Promise<AliasMove> {
    return this.db
      .transaction((): AliasMove => {
        if (!this.db.prepare("SELECT 1 FROM registry_versions WHERE kind = ? AND name = ? AND version = ?").get(kind, name, version)) {
          throw new StratumError("NotFound", `${kind} "${name}" has no version ${version}`, { param: "version", code: "version_not_found" });
        }
        const current = (this.db.prepare("SELECT version FROM registry_aliases WHERE kind = ? AND name = ? AND alias = ?").get(kind, name, alias) as { version: number } | undefined)?.version;
        if (opts.expect !== undefined && (current ?? null) !== opts.expect) return { ok: false, previous: current, aliases: this.aliasMap(kind, name) };
        this.db
          .prepare("INSERT INTO registry_aliases (kind, name, alias, version, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (kind, name, alias) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at")
          .run(kind, name, alias, version, Date.now());
        return { ok: true, previous: current, aliases: this.aliasMap(kind, name) };
      })
      .immediate();
  }

  async linkEvalRun(kind: RegistryKind, name: string, version: number, runId: string): Promise<RegistryVersion> {
    const v = await this.getVersion(kind, name, version);
    if (!v) throw new StratumError("NotFound", `${kind} "${name}" has no version ${version}`, { param: "version", code: "version_not_found" });
    this.db.prepare("INSERT OR IGNORE INTO registry_eval_links (kind, name, version, run_id, linked_at) VALUES (?, ?, ?, ?, ?)").run(kind, name, version, runId, Date.now());
    return (await this.getVersion(kind, name, version))!;
  }

  private aliasMap(kind: string, name: string): Record<string, number> {
    const rows = this.db.prepare("SELECT alias, version FROM registry_aliases WHERE kind = ? AND name = ? ORDER BY alias").all(kind, name) as Array<{ alias: string; version: number }>;
    return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
  }

  private toVersion(r: VersionRow): RegistryVersion {
    const runs = this.db.prepare("SELECT run_id FROM registry_eval_links WHERE kind = ? AND name = ? AND version = ? ORDER BY linked_at, run_id").all(r.kind, r.name, r.version) as Array<{ run_id: string }>;
    return {
      kind: r.kind as RegistryKind,
      name: r.name,
      version: r.version,
      hash: r.hash,
      parentVersion: r.parent_version,
      createdBy: r.created_by,
      createdAt: r.created_at,
      ...(r.note !== null ? { note: r.note } : {}),
      spec: JSON.parse(r.spec) as unknown,
      evalRuns: runs.map((x) => x.run_id),
    };
  }
}
