import type { SpendSubject, UsageRecord, UsageStore } from "../types.js";
import type { SqliteDb } from "./database.js";

export class SqliteUsageStore implements UsageStore {
  private readonly insertMany;
  private readonly costOfKey;
  private readonly costOfTenant;
  constructor(private readonly db: SqliteDb) {
    const insert = db.prepare(
      `INSERT INTO usage (request_id, at, key_id, tenant, user, model, deployment, prompt_tokens, completion_tokens, cost_usd, status, cached, stream, latency_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // One transaction per batch: thousands of rows per fsync instead of one.
    // Positional parameters: binding 14 named ones (and a copy of the record
    // to turn booleans into integers) cost 1–3 µs more a row, on the main thread.
    this.insertMany = db.transaction((rows: readonly UsageRecord[]) => {
      for (const r of rows) {
        insert.run(r.requestId, r.at, r.keyId, r.tenant, r.user, r.model, r.deployment, r.promptTokens, r.completionTokens, r.costUsd, r.status, r.cached ? 1 : 0, r.stream ? 1 : 0, r.latencyMs);
      }
    });
    this.costOfKey = db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage WHERE key_id = ? AND at >= ?");
    this.costOfTenant = db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage WHERE tenant = ? AND at >= ?");
  }
  async append(records: readonly UsageRecord[]): Promise<void> {
    if (records.length) this.insertMany.immediate(records);
  }
  async costSince(subject: SpendSubject, since: number): Promise<number> {
    const stmt = subject.kind === "key" ? this.costOfKey : this.costOfTenant;
    return (stmt.get(subject.id, since) as { c: number }).c;
  }
  async summary(filter: { since: number; tenant?: string }) {
    const rows = this.db
      .prepare(
        `SELECT key_id AS keyId, model, COUNT(*) AS requests, SUM(prompt_tokens) AS promptTokens,
                SUM(completion_tokens) AS completionTokens, SUM(cost_usd) AS costUsd
         FROM usage WHERE at >= ? ${filter.tenant ? "AND tenant = ?" : ""} GROUP BY key_id, model ORDER BY costUsd DESC`,
      )
      .all(...(filter.tenant ? [filter.since, filter.tenant] : [filter.since]));
    return rows as Array<{ keyId: string; model: string; requests: number; promptTokens: number; completionTokens: number; costUsd: number }>;
  }
}
