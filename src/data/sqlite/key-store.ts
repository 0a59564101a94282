import type { ApiKeyRecord, KeyStore } from "../types.js";
import type { SqliteDb } from "./database.js";

interface Row {
  id: string;
  tenant: string;
  name: string;
  role: "admin" | "user";
  hash: string;
  prefix: string;
  limits: string;
  created_at: number;
  revoked_at: number | null;
}

const toRecord = (r: Row): ApiKeyRecord => ({
  id: r.id,
  tenant: r.tenant,
  name: r.name,
  role: r.role,
  hash: r.hash,
  prefix: r.prefix,
  limits: JSON.parse(r.limits) as ApiKeyRecord["limits"],
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

export class SqliteKeyStore implements KeyStore {
  private readonly insert;
  private readonly byHash;
  private readonly byId;
  private readonly revokeStmt;
  constructor(private readonly db: SqliteDb) {
    this.insert = db.prepare(
      "INSERT INTO api_keys (id, tenant, name, role, hash, prefix, limits, created_at, revoked_at) VALUES (@id, @tenant, @name, @role, @hash, @prefix, @limits, @createdAt, @revokedAt)",
    );
    this.byHash = db.prepare("SELECT * FROM api_keys WHERE hash = ?");
    this.byId = db.prepare("SELECT * FROM api_keys WHERE id = ?");
    this.revokeStmt = db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL");
  }

  async create(r: ApiKeyRecord): Promise<void> {
    this.insert.run({ ...r, limits: JSON.stringify(r.limits) });
  }
  async findByHash(hash: string): Promise<ApiKeyRecord | undefined> {
    const row = this.byHash.get(hash) as Row | undefined;
    return row && toRecord(row);
  }
  async get(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.byId.get(id) as Row | undefined;
    return row && toRecord(row);
  }
  async list(filter: { tenant?: string; includeRevoked?: boolean } = {}): Promise<ApiKeyRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.tenant) {
      where.push("tenant = ?");
      args.push(filter.tenant);
    }
    if (!filter.includeRevoked) where.push("revoked_at IS NULL");
    const sql = `SELECT * FROM api_keys ${where.length ? "WHERE " + where.join(" AND ") : ""} ORDER BY created_at`;
    return (this.db.prepare(sql).all(...args) as Row[]).map(toRecord);
  }
  async revoke(id: string, at: number): Promise<boolean> {
    return this.revokeStmt.run(at, id).changes > 0;
  }
  async countAdmins(): Promise<number> {
    const row = this.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL").get() as { n: number };
    return row.n;
  }
}
