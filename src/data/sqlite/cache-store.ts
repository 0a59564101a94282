import type { CacheStore } from "../types.js";
import type { SqliteDb } from "./database.js";
import { likePrefix } from "./like-prefix.js";

/** Response cache that survives restarts. Expired rows are skipped on read and swept on write. */
export class SqliteCacheStore<V> implements CacheStore<V> {
  private readonly getStmt;
  private readonly setStmt;
  private readonly delStmt;
  private readonly sweepStmt;
  private writes = 0;
  constructor(private readonly db: SqliteDb, private readonly maxEntries = 10_000) {
    this.getStmt = db.prepare("SELECT value, expires_at FROM response_cache WHERE key = ?");
    this.setStmt = db.prepare("INSERT OR REPLACE INTO response_cache (key, value, expires_at) VALUES (?, ?, ?)");
    this.delStmt = db.prepare("DELETE FROM response_cache WHERE key = ?");
    this.sweepStmt = db.prepare(
      "DELETE FROM response_cache WHERE expires_at < ? OR key NOT IN (SELECT key FROM response_cache ORDER BY expires_at DESC LIMIT ?)",
    );
  }
  async get(key: string): Promise<V | undefined> {
    const row = this.getStmt.get(key) as { value: string; expires_at: number } | undefined;
    if (!row || row.expires_at <= Date.now()) return undefined;
    return JSON.parse(row.value) as V;
  }
  async set(key: string, value: V, ttlMs: number): Promise<void> {
    this.setStmt.run(key, JSON.stringify(value), Date.now() + ttlMs);
    if (++this.writes % 500 === 0) this.sweepStmt.run(Date.now(), this.maxEntries);
  }
  async delete(key: string): Promise<void> {
    this.delStmt.run(key);
  }
  async clear(prefix = ""): Promise<void> {
    this.db.prepare("DELETE FROM response_cache WHERE key LIKE ? ESCAPE '\\'").run(likePrefix(prefix));
  }
}
