// Usage rows in PostgreSQL, one per request, plus their sums per UTC hour, key
// and model (usage_hourly, data/usage-hours.ts), written in one transaction.
// Costs and reports read the hours, and the rows only for the part of a period
// before its first whole hour, as the SQLite store does.
import { utcHourStart } from "../../core/utc-period.js";
import type { SpendSubject, UsageHour, UsageRecord, UsageStore, UsageSummaryRow } from "../types.js";
import { mergeSummaries, nextHour, sumByHour, type HourSum } from "../usage-hours.js";
import { pgQuery, withTransaction, type PgPool } from "./pool.js";

/** Rows per INSERT statement; larger batches are several statements in one transaction. */
const CHUNK = 5_000;

// One multi-row INSERT per chunk: 14 array parameters unnested server-side,
// whatever the batch size (no per-row round trips, no parameter-count limit).
const INSERT_ROWS = `
  INSERT INTO usage (request_id, at, key_id, tenant, user_id, model, deployment, prompt_tokens, completion_tokens, cost_usd, status, cached, stream, latency_ms)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                       $10::float8[], $11::int[], $12::bool[], $13::bool[], $14::float8[])`;

// The batch's sums added to their hours. sumByHour orders them by hour, key and model, so replicas
// writing at once lock the same rows in the same order (no deadlock), and never one row twice.
const addToHours = (p: number) => `
  INSERT INTO usage_hourly (hour, key_id, model, tenant, requests, prompt_tokens, completion_tokens, cost_usd)
  SELECT * FROM unnest($${p}::bigint[], $${p + 1}::text[], $${p + 2}::text[], $${p + 3}::text[], $${p + 4}::bigint[], $${p + 5}::bigint[], $${p + 6}::bigint[], $${p + 7}::float8[])
  ON CONFLICT (hour, key_id, model) DO UPDATE SET requests = usage_hourly.requests + excluded.requests,
    prompt_tokens = usage_hourly.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_hourly.completion_tokens + excluded.completion_tokens,
    cost_usd = usage_hourly.cost_usd + excluded.cost_usd`;

// A batch of up to CHUNK rows in one statement (one round trip, atomic): the rows in a data-modifying WITH, then their sums.
const APPEND = `WITH inserted AS (${INSERT_ROWS}) ${addToHours(15)}`;
const ADD_TO_HOURS = addToHours(1);

const SUMMARY_COLUMNS = `key_id AS "keyId", model, SUM(prompt_tokens)::float8 AS "promptTokens", SUM(completion_tokens)::float8 AS "completionTokens", SUM(cost_usd)::float8 AS "costUsd"`;

/** Parameter arrays, one per field. */
function columns<T>(items: readonly T[], fields: ReadonlyArray<(item: T) => unknown>): unknown[][] {
  const cols = fields.map(() => new Array<unknown>(items.length));
  items.forEach((item, i) => fields.forEach((f, j) => (cols[j]![i] = f(item))));
  return cols;
}

const ROW_FIELDS: ReadonlyArray<(r: UsageRecord) => unknown> = [
  (r) => r.requestId,
  (r) => Math.round(r.at),
  (r) => r.keyId,
  (r) => r.tenant,
  (r) => r.user,
  (r) => r.model,
  (r) => r.deployment,
  (r) => Math.round(r.promptTokens),
  (r) => Math.round(r.completionTokens),
  (r) => r.costUsd,
  (r) => Math.round(r.status),
  (r) => r.cached,
  (r) => r.stream,
  (r) => r.latencyMs,
];

const HOUR_FIELDS: ReadonlyArray<(h: HourSum) => unknown> = [
  (h) => h.hour,
  (h) => h.keyId,
  (h) => h.model,
  (h) => h.tenant,
  (h) => h.requests,
  (h) => Math.round(h.promptTokens),
  (h) => Math.round(h.completionTokens),
  (h) => h.costUsd,
];

/** Usage records in `usage` and `usage_hourly` (see PG_MIGRATIONS). */
export class PgUsageStore implements UsageStore {
  constructor(private readonly pool: PgPool) {}

  async append(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    const hours = columns(sumByHour(records), HOUR_FIELDS);
    if (records.length <= CHUNK) {
      await pgQuery(this.pool, APPEND, [...columns(records, ROW_FIELDS), ...hours]);
      return;
    }
    await withTransaction(this.pool, async (client) => {
      for (let i = 0; i < records.length; i += CHUNK) await client.query(INSERT_ROWS, columns(records.slice(i, i + CHUNK), ROW_FIELDS));
      await client.query(ADD_TO_HOURS, hours);
    });
  }

  async costSince(subject: SpendSubject, since: number): Promise<number> {
    const column = subject.kind === "key" ? "key_id" : "tenant";
    const from = nextHour(Math.ceil(since));
    const { rows } = await pgQuery<{ c: number }>(
      this.pool,
      // Budget windows start on the hour, so the rows' part is usually an empty range (each part an index-only scan).
      `SELECT (SELECT COALESCE(SUM(cost_usd), 0) FROM usage_hourly WHERE ${column} = $1 AND hour >= $3)
            + (SELECT COALESCE(SUM(cost_usd), 0) FROM usage WHERE ${column} = $1 AND at >= $2 AND at < $3) AS c`,
      [subject.id, Math.ceil(since), from],
    );
    return Number(rows[0]?.c ?? 0);
  }

  async summary(filter: { since: number; tenant?: string }): Promise<UsageSummaryRow[]> {
    const since = Math.ceil(filter.since);
    const from = nextHour(since);
    const byTenant = filter.tenant ? [filter.tenant] : [];
    const [hours, partial] = await Promise.all([
      pgQuery<UsageSummaryRow>(
        this.pool,
        `SELECT ${SUMMARY_COLUMNS}, SUM(requests)::float8 AS requests FROM usage_hourly WHERE hour >= $1 ${filter.tenant ? "AND tenant = $2" : ""} GROUP BY key_id, model`,
        [from, ...byTenant],
      ),
      // The part of the first hour after `since` comes from the rows themselves (the admin API asks on the hour: none).
      since < from
        ? pgQuery<UsageSummaryRow>(
            this.pool,
            `SELECT ${SUMMARY_COLUMNS}, COUNT(*)::float8 AS requests FROM usage WHERE at >= $1 AND at < $2 ${filter.tenant ? "AND tenant = $3" : ""} GROUP BY key_id, model`,
            [since, from, ...byTenant],
          )
        : { rows: [] },
    ]);
    return mergeSummaries(hours.rows, partial.rows);
  }

  async hourly(filter: { since: number; tenant?: string }): Promise<UsageHour[]> {
    const { rows } = await pgQuery<UsageHour>(
      this.pool,
      `SELECT hour::float8 AS hour, SUM(requests)::float8 AS requests, SUM(prompt_tokens)::float8 AS "promptTokens", SUM(completion_tokens)::float8 AS "completionTokens",
              SUM(cost_usd)::float8 AS "costUsd"
         FROM usage_hourly WHERE hour >= $1 ${filter.tenant ? "AND tenant = $2" : ""} GROUP BY hour ORDER BY hour`,
      [utcHourStart(filter.since), ...(filter.tenant ? [filter.tenant] : [])],
    );
    return rows;
  }

  async deleteRowsBefore(before: number, limit: number): Promise<number> {
    const { rowCount } = await pgQuery(this.pool, "DELETE FROM usage WHERE ctid = ANY(ARRAY(SELECT ctid FROM usage WHERE at < $1 ORDER BY at LIMIT $2))", [Math.ceil(before), limit]);
    return rowCount ?? 0;
  }
}
