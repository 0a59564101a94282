// Usage rows in SQLite, one per request, plus their sums per UTC hour, key and
// model (usage_hourly, data/usage-hours.ts), kept in the same transaction as
// the rows. Costs and reports read the hours, and the rows only for the part of
// an hour before a `since` that is not on the hour: a report of a busy day
// reads a few thousand sums instead of a million rows on the event loop.
import { utcHourStart } from "../../core/utc-period.js";
import type { SpendSubject, UsageHour, UsageRecord, UsageStore, UsageSummaryRow } from "../types.js";
import { mergeSummaries, nextHour, sumByHour } from "../usage-hours.js";
import type { SqliteDb } from "./database.js";

export class SqliteUsageStore implements UsageStore {
  private readonly insertMany;
  private readonly hourCost;
  private readonly rowCost;
  private readonly deleteOld;
  private readonly hours;
  private readonly summaryHours;
  private readonly summaryRows;
  constructor(private readonly db: SqliteDb) {
    const insert = db.prepare(
      `INSERT INTO usage (request_id, at, key_id, tenant, user, model, deployment, prompt_tokens, completion_tokens, cost_usd, status, cached, stream, latency_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const addToHour = db.prepare(
      `INSERT INTO usage_hourly (hour, key_id, model, tenant, requests, prompt_tokens, completion_tokens, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hour, key_id, model) DO UPDATE SET requests = requests + excluded.requests, prompt_tokens = prompt_tokens + excluded.prompt_tokens,
         completion_tokens = completion_tokens + excluded.completion_tokens, cost_usd = cost_usd + excluded.cost_usd`,
    );
    // One transaction per batch: thousands of rows per fsync instead of one.
    // Positional parameters: binding 14 named ones (and a copy of the record
    // to turn booleans into integers) cost 1–3 µs more a row, on the main thread.
    this.insertMany = db.transaction((rows: readonly UsageRecord[]) => {
      for (const r of rows) {
        insert.run(r.requestId, r.at, r.keyId, r.tenant, r.user, r.model, r.deployment, r.promptTokens, r.completionTokens, r.costUsd, r.status, r.cached ? 1 : 0, r.stream ? 1 : 0, r.latencyMs);
      }
      // A batch spans a few keys and models: a handful of upserts, not one per row.
      for (const h of sumByHour(rows)) addToHour.run(h.hour, h.keyId, h.model, h.tenant, h.requests, h.promptTokens, h.completionTokens, h.costUsd);
    });
    // Oldest first through the index on `at`, a bounded number at a time: a sweep never holds the loop for long.
    this.deleteOld = db.prepare("DELETE FROM usage WHERE rowid IN (SELECT rowid FROM usage WHERE at < ? ORDER BY at LIMIT ?)");
    // Reports over every tenant or one (its id the last parameter): prepared once each.
    const perTenant = (sql: (tenant: string) => string) => ({ all: db.prepare(sql("")), one: db.prepare(sql("AND tenant = ?")) });
    const SUMS = "SUM(prompt_tokens) AS promptTokens, SUM(completion_tokens) AS completionTokens, SUM(cost_usd) AS costUsd";
    this.hours = perTenant((t) => `SELECT hour, SUM(requests) AS requests, ${SUMS} FROM usage_hourly WHERE hour >= ? ${t} GROUP BY hour ORDER BY hour`);
    this.summaryHours = perTenant((t) => `SELECT key_id AS keyId, model, SUM(requests) AS requests, ${SUMS} FROM usage_hourly WHERE hour >= ? ${t} GROUP BY key_id, model`);
    // The part of a report's first hour before its first whole hour comes from the rows themselves.
    this.summaryRows = perTenant((t) => `SELECT key_id AS keyId, model, COUNT(*) AS requests, ${SUMS} FROM usage WHERE at >= ? AND at < ? ${t} GROUP BY key_id, model`);
    this.hourCost = {
      key: db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage_hourly WHERE key_id = ? AND hour >= ?"),
      tenant: db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage_hourly WHERE tenant = ? AND hour >= ?"),
    };
    this.rowCost = {
      key: db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage WHERE key_id = ? AND at >= ? AND at < ?"),
      tenant: db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage WHERE tenant = ? AND at >= ? AND at < ?"),
    };
  }

  async append(records: readonly UsageRecord[]): Promise<void> {
    if (records.length) this.insertMany.immediate(records);
  }

  async costSince(subject: SpendSubject, since: number): Promise<number> {
    const from = nextHour(since);
    const hours = (this.hourCost[subject.kind].get(subject.id, from) as { c: number }).c;
    // Budget windows start on the hour, so this part is usually empty (and indexed when it is not).
    const before = since < from ? (this.rowCost[subject.kind].get(subject.id, since, from) as { c: number }).c : 0;
    return hours + before;
  }

  async summary(filter: { since: number; tenant?: string }): Promise<UsageSummaryRow[]> {
    const from = nextHour(filter.since);
    const tenant = filter.tenant ? [filter.tenant] : [];
    const which = filter.tenant ? "one" : "all";
    const rows = this.summaryHours[which].all(from, ...tenant) as UsageSummaryRow[];
    // The admin API asks on the hour: no partial hour to read from the rows.
    const partial = filter.since < from ? (this.summaryRows[which].all(filter.since, from, ...tenant) as UsageSummaryRow[]) : [];
    return mergeSummaries(rows, partial);
  }

  async hourly(filter: { since: number; tenant?: string }): Promise<UsageHour[]> {
    const from = utcHourStart(filter.since);
    return (filter.tenant ? this.hours.one.all(from, filter.tenant) : this.hours.all.all(from)) as UsageHour[];
  }

  async deleteRowsBefore(before: number, limit: number): Promise<number> {
    return this.deleteOld.run(before, limit).changes;
  }
}
