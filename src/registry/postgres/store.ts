// RegistryStore on PostgreSQL. Adding a version and moving an alias take a
// transaction-scoped advisory lock on the entry, so replicas number versions
// without gaps or duplicates and compare-and-set aliases atomically.
import { StratumError } from "../../core/errors.js";
import { pgQuery, withTransaction, type PgClient, type PgPool } from "../../data/postgres/index.js";
import type { AliasMove, NewVersion, RegistryEntry, RegistryKind, RegistryStore, RegistryVersion } from "../types.js";

interface VersionRow {
  kind: string;
  name: string;
  version: number;
  hash: string;
  parent_version: number | null;
  created_by: string;
  created_at: string;
  note: string | null;
  spec: unknown;
  eval_runs: string[] | null;
}

const SELECT_VERSION = `
  SELECT v.*, (SELECT array_agg(l.run_id ORDER BY l.linked_at, l.run_id) FROM registry_eval_links l
               WHERE l.kind = v.kind AND l.name = v.name AND l.version = v.version) AS eval_runs
  FROM registry_versions v`;

const lockEntry = (c: PgClient, kind: string, name: string) => c.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`registry:${kind}:${name}`]);

export class PgRegistryStore implements RegistryStore {
  constructor(private readonly pool: PgPool) {}

  async addVersion(v: NewVersion): Promise<{ version: RegistryVersion; created: boolean }> {
    const out = await withTransaction(this.pool, async (c) => {
      await lockEntry(c, v.kind, v.name);
      const same = await c.query<{ version: number }>("SELECT version FROM registry_versions WHERE kind = $1 AND name = $2 AND hash = $3", [v.kind, v.name, v.hash]);
      if (same.rows[0]) return { version: same.rows[0].version, created: false };
      const latest = (await c.query<{ v: number | null }>("SELECT MAX(version) AS v FROM registry_versions WHERE kind = $1 AND name = $2", [v.kind, v.name])).rows[0]!.v;
      const parent = v.parentVersion === undefined ? latest : v.parentVersion;
      if (parent !== null && (latest === null || parent < 1 || parent > latest)) {
        throw new StratumError("InvalidRequest", `parent_version ${parent} does not exist for ${v.kind} "${v.name}"`, { param: "parent_version", code: "invalid_value" });
      }
      const version = (latest ?? 0) + 1;
      await c.query(
        "INSERT INTO registry_versions (kind, name, version, hash, parent_version, created_by, created_at, note, spec) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        [v.kind, v.name, version, v.hash, parent, v.createdBy, Date.now(), v.note ?? null, JSON.stringify(v.spec)],
      );
      return { version, created: true };
    });
    return { version: (await this.getVersion(v.kind, v.name, out.version))!, created: out.created };
  }

  async getVersion(kind: RegistryKind, name: string, version: number): Promise<RegistryVersion | undefined> {
    const { rows } = await pgQuery<VersionRow>(this.pool, `${SELECT_VERSION} WHERE v.kind = $1 AND v.name = $2 AND v.version = $3`, [kind, name, version]);
    return rows[0] ? toVersion(rows[0]) : undefined;
  }

  async versions(kind: RegistryKind, name: string): Promise<RegistryVersion[]> {
    const { rows } = await pgQuery<VersionRow>(this.pool, `${SELECT_VERSION} WHERE v.kind = $1 AND v.name = $2 ORDER BY v.version`, [kind, name]);
    return rows.map(toVersion);
  }

  async aliases(kind: RegistryKind, name: string): Promise<Record<string, number>> {
    return aliasMap(this.pool, kind, name);
  }

  async list(kind?: RegistryKind): Promise<RegistryEntry[]> {
    const { rows } = await pgQuery<{ kind: RegistryKind; name: string; latest: number; aliases: Record<string, number> | null }>(
      this.pool,
      `SELECT v.kind, v.name, MAX(v.version) AS latest,
              (SELECT jsonb_object_agg(a.alias, a.version) FROM registry_aliases a WHERE a.kind = v.kind AND a.name = v.name) AS aliases
       FROM registry_versions v ${kind ? "WHERE v.kind = $1" : ""} GROUP BY v.kind, v.name ORDER BY v.kind, v.name`,
      kind ? [kind] : [],
    );
    return rows.map((r) => ({ kind: r.kind, name: r.name, latestVersion: Number(r.latest), aliases: sortedAliases(r.aliases ?? {}) }));
  }

  async setAlias(kind: RegistryKind, name: string, alias: string, version: number, opts: { expect?: number | null } = {}): Promise<AliasMove> {
    return withTransaction(this.pool, async (c) => {
      await lockEntry(c, kind, name);
      const exists = await c.query("SELECT 1 FROM registry_versions WHERE kind = $1 AND name = $2 AND version = $3", [kind, name, version]);
      if (!exists.rowCount) throw new StratumError("NotFound", `${kind} "${name}" has no version ${version}`, { param: "version", code: "version_not_found" });
      const cur = await c.query<{ version: number }>("SELECT version FROM registry_aliases WHERE kind = $1 AND name = $2 AND alias = $3", [kind, name, alias]);
      const current = cur.rows[0]?.version;
      if (opts.expect !== undefined && (current ?? null) !== opts.expect) return { ok: false, previous: current, aliases: await aliasMap(c, kind, name) };
      await c.query(
        "INSERT INTO registry_aliases (kind, name, alias, version, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, name, alias) DO UPDATE SET version = EXCLUDED.version, updated_at = EXCLUDED.updated_at",
        [kind, name, alias, version, Date.now()],
      );
      return { ok: true, previous: current, aliases: await aliasMap(c, kind, name) };
    });
  }

  async linkEvalRun(kind: RegistryKind, name: string, version: number, runId: string): Promise<RegistryVersion> {
    if (!(await this.getVersion(kind, name, version))) throw new StratumError("NotFound", `${kind} "${name}" has no version ${version}`, { param: "version", code: "version_not_found" });
    await pgQuery(this.pool, "INSERT INTO registry_eval_links (kind, name, version, run_id, linked_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", [kind, name, version, runId, Date.now()]);
    return (await this.getVersion(kind, name, version))!;
  }
}

async function aliasMap(q: PgPool | PgClient, kind: string, name: string): Promise<Record<string, number>> {
  const { rows } = await q.query<{ alias: string; version: number }>("SELECT alias, version FROM registry_aliases WHERE kind = $1 AND name = $2 ORDER BY alias", [kind, name]);
  return Object.fromEntries(rows.map((r) => [r.alias, r.version]));
}

function sortedAliases(a: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.keys(a).sort().map((k) => [k, Number(a[k])]));
}

function toVersion(r: VersionRow): RegistryVersion {
  return {
    kind: r.kind as RegistryKind,
    name: r.name,
    version: r.version,
    hash: r.hash,
    parentVersion: r.parent_version,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    ...(r.note !== null ? { note: r.note } : {}),
    spec: r.spec,
    evalRuns: r.eval_runs ?? [],
  };
}
