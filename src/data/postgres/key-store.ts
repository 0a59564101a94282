import type { ApiKeyRecord, KeyStore } from "../types.js";
import { pgQuery, type PgPool } from "./pool.js";

interface Row {
  id: string;
  tenant: string;
  name: string;
  role: "admin" | "user";
  hash: string;
  prefix: string;
  limits: ApiKeyRecord["limits"];
  created_at: string | number;
  revoked_at: string | number | null;
}

const COLUMNS = "id, tenant, name, role, hash, prefix, limits, created_at, revoked_at";

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  role: r.role,
  hash: r.hash,
  prefix: r.prefix,
  limits: r.limits ?? {},
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/** API keys in `api_keys` (see PG_MIGRATIONS). Every operation is a single statement. */
export class PgKeyStore implements KeyStore {
  constructor(private readonly pool: PgPool) {}

  async create(r: ApiKeyRecord): Promise<void> {
    await pgQuery(
      this.pool,
      "INSERT INTO api_keys (id, tenant, name, role, hash, prefix, limits, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)",
      [r.id, r.tenant, r.name, r.role, r.hash, r.prefix, JSON.stringify(r.limits ?? {}), r.createdAt, r.revokedAt],
    );
  }
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await pgQuery<Row>(this.pool, `SELECT ${COLUMNS} FROM api_keys WHERE hash = $1`, [hash]);
    return rows[0] && toRecord(rows[0]);
  }
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const { rows } = await pgQuery<Row>(this.pool, `SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return rows[0] && toRecord(rows[0]);
  }
  async list(filter: { tenant?: string; includeRevoked?: boolean } = {}): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.tenant) {
      args.push(filter.tenant);
      where.push(`tenant = $${args.length}`);
    }
    if (!filter.includeRevoked) where.push("revoked_at IS NULL");
    // rid keeps insertion order among equal created_at (as SQLite's rowid does).
    const sql = `SELECT ${COLUMNS} FROM api_keys ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY created_at, rid`;
    return (await pgQuery<Row>(this.pool, sql, args)).rows.map(toRecord);
  }
  async revoke(id: string, at: number): Promise<boolean> {
    const res = await pgQuery(this.pool, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", [at, id]);
    return (res.rowCount ?? 0) > 0;
  }
  async countAdmins(): Promise<number> {
    const { rows } = await pgQuery<{ n: number }>(this.pool, "SELECT COUNT(*)::int AS n FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL");
    return rows[0]?.n ?? 0;
  }
}
