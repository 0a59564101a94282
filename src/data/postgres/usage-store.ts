import type { SpendSubject, UsageRecord, UsageStore } from "../types.js";
import { pgQuery, withTransaction, type PgPool } from "./pool.js";

/** Rows per INSERT statement; larger batches are several statements in one transaction. */
const CHUNK = 5_000;

// One multi-row INSERT per chunk: 14 array parameters unnested server-side,
// whatever the batch size (no per-row round trips, no parameter-count limit).
const INSERT = `
  INSERT INTO usage (request_id, at, key_id, tenant, user_id, model, deployment, prompt_tokens, completion_tokens, cost_usd, status, cached, stream, latency_ms)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::bigint[], $9::bigint[],
                       $10::float8[], $11::int[], $12::bool[], $13::bool[], $14::float8[])`;

function columns(rows: readonly UsageRecord[]): unknown[][] {
  const cols: unknown[][] = Array.from({ length: 14 }, () => new Array<unknown>(rows.length));
  rows.forEach((r, i) => {
    cols[0]![i] = r.requestId;
    cols[1]![i] = Math.round(r.at);
    cols[2]![i] = r.keyId;
    cols[3]![i] = r.tenant;
    cols[4]![i] = r.user;
    cols[5]![i] = r.model;
    cols[6]![i] = r.deployment;
    cols[7]![i] = Math.round(r.promptTokens);
    cols[8]![i] = Math.round(r.completionTokens);
    cols[9]![i] = r.costUsd;
    cols[10]![i] = Math.round(r.status);
    cols[11]![i] = r.cached;
    cols[12]![i] = r.stream;
    cols[13]![i] = r.latencyMs;
  });
  return cols;
}

export interface UsageSummaryRow {
  keyId: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** Usage records in `usage` (see PG_MIGRATIONS). */
export class PgUsageStore implements UsageStore {
  constructor(private readonly pool: PgPool) {}

  async append(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (records.length <= CHUNK) {
      await pgQuery(this.pool, INSERT, columns(records));
      return;
    }
    await withTransaction(this.pool, async (client) => {
      for (let i = 0; i < records.length; i += CHUNK) await client.query(INSERT, columns(records.slice(i, i + CHUNK)));
    });
  }

  async costSince(subject: SpendSubject, since: number): Promise<number> {
    const column = subject.kind === "key" ? "key_id" : "tenant";
    const { rows } = await pgQuery<{ c: number }>(
      this.pool,
      `SELECT COALESCE(SUM(cost_usd), 0)::float8 AS c FROM usage WHERE ${column} = $1 AND at >= $2`,
      [subject.id, Math.ceil(since)],
    );
    return rows[0]?.c ?? 0;
  }

  async summary(filter: { since: number; tenant?: string }): Promise<UsageSummaryRow[]> {
    const args: unknown[] = [Math.ceil(filter.since)];
    if (filter.tenant) args.push(filter.tenant);
    const { rows } = await pgQuery<UsageSummaryRow>(
      this.pool,
      `SELECT key_id AS "keyId", model, COUNT(*)::float8 AS requests, SUM(prompt_tokens)::float8 AS "promptTokens",
              SUM(completion_tokens)::float8 AS "completionTokens", SUM(cost_usd)::float8 AS "costUsd"
         FROM usage WHERE at >= $1 ${filter.tenant ? "AND tenant = $2" : ""}
        GROUP BY key_id, model ORDER BY "costUsd" DESC, key_id, model`,
      args,
    );
    return rows;
  }
}
