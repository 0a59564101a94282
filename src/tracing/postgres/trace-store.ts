// TraceStore on PostgreSQL: the same tables and merge rules as the SQLite
// store, from this module's versioned migrations ("tracing").
import { applyMigrations, pgQuery, withTransaction, type PgMigration, type PgPool } from "../../data/postgres/index.js";
import { summaryColumns, toFeedback, toSpan, toSummary, type FeedbackRow, type SpanRow, type SummaryRow } from "../summary-row.js";
import type { StoredSpan, TraceBatch, TraceFeedback, TracePage, TraceQuery, TraceScore, TraceStore, TraceSummary } from "../types.js";

export const TRACING_PG_MODULE = "tracing";

export const TRACING_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "trace store",
    sql: `
      CREATE TABLE trace_summaries (
        trace_id TEXT PRIMARY KEY,
        name TEXT,
        started_at BIGINT NOT NULL,
        duration_ms DOUBLE PRECISION,
        status TEXT,
        tenant TEXT,
        model TEXT,
        pipeline TEXT,
        pipeline_version INTEGER,
        session_id TEXT,
        user_id TEXT,
        http_status INTEGER,
        tokens_in INTEGER,
        tokens_out INTEGER,
        cost_usd DOUBLE PRECISION
      );
      CREATE INDEX trace_summaries_started ON trace_summaries (started_at);
      CREATE INDEX trace_summaries_tenant_time ON trace_summaries (tenant, started_at DESC, trace_id DESC);
      CREATE TABLE trace_spans (
        trace_id TEXT NOT NULL,
        span_id TEXT NOT NULL,
        parent_span_id TEXT,
        name TEXT NOT NULL,
        start_ms DOUBLE PRECISION NOT NULL,
        end_ms DOUBLE PRECISION NOT NULL,
        status TEXT NOT NULL,
        status_message TEXT,
        attributes JSONB NOT NULL,
        events JSONB NOT NULL,
        PRIMARY KEY (trace_id, span_id)
      );
      CREATE INDEX trace_spans_start ON trace_spans (start_ms);
      CREATE TABLE trace_feedback (
        id TEXT PRIMARY KEY,
        trace_id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        score DOUBLE PRECISION NOT NULL,
        comment TEXT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX trace_feedback_trace ON trace_feedback (trace_id, created_at);
      CREATE TABLE trace_scores (
        trace_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (trace_id, metric)
      );
    `,
  },
];

export function migrateTracing(pool: PgPool): Promise<number[]> {
  return applyMigrations(pool, TRACING_PG_MODULE, TRACING_PG_MIGRATIONS);
}

const SUMMARY_FIELDS = ["name", "started_at", "duration_ms", "status", "tenant", "model", "pipeline", "pipeline_version", "session_id", "user_id", "http_status", "tokens_in", "tokens_out", "cost_usd"] as const;

const UPSERT_SUMMARY = `
INSERT INTO trace_summaries (trace_id, ${SUMMARY_FIELDS.join(", ")})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (trace_id) DO UPDATE SET
  started_at = LEAST(trace_summaries.started_at, EXCLUDED.started_at),
  ${SUMMARY_FIELDS.filter((f) => f !== "started_at").map((f) => `${f} = COALESCE(EXCLUDED.${f}, trace_summaries.${f})`).join(",\n  ")}`;

const SUMMARY_COLUMNS = summaryColumns("(SELECT COUNT(*) FROM trace_spans s WHERE s.trace_id = t.trace_id)");

export class PgTraceStore implements TraceStore {
  private constructor(private readonly pool: PgPool) {}

  /** Applies the tracing migrations (under the shared advisory lock) and returns the store. */
  static async open(pool: PgPool): Promise<PgTraceStore> {
    await migrateTracing(pool);
    return new PgTraceStore(pool);
  }

  async write(batch: TraceBatch): Promise<void> {
    if (!batch.spans.length && !batch.summaries.length) return;
    await withTransaction(this.pool, async (c) => {
      for (const s of batch.spans) {
        await c.query(
          `INSERT INTO trace_spans (trace_id, span_id, parent_span_id, name, start_ms, end_ms, status, status_message, attributes, events)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT (trace_id, span_id) DO UPDATE SET name = EXCLUDED.name, end_ms = EXCLUDED.end_ms, status = EXCLUDED.status, attributes = EXCLUDED.attributes, events = EXCLUDED.events`,
          [s.traceId, s.spanId, s.parentSpanId ?? null, s.name, s.startMs, s.endMs, s.status, s.statusMessage ?? null, JSON.stringify(s.attributes), JSON.stringify(s.events)],
        );
      }
      for (const p of batch.summaries) {
        await c.query(UPSERT_SUMMARY, [
          p.traceId,
          p.root?.name ?? null,
          p.startedAt,
          p.root?.durationMs ?? null,
          p.root?.status ?? null,
          p.tenant ?? null,
          p.model ?? null,
          p.pipeline ?? null,
          p.pipelineVersion ?? null,
          p.sessionId ?? null,
          p.user ?? null,
          p.httpStatus ?? null,
          p.tokensIn ?? null,
          p.tokensOut ?? null,
          p.costUsd ?? null,
        ]);
      }
    });
  }

  async list(q: TraceQuery): Promise<TracePage> {
    const where = ["t.name IS NOT NULL"];
    const args: Array<string | number> = [];
    const p = (v: string | number) => `$${args.push(v)}`;
    if (q.tenant !== undefined) where.push(`t.tenant = ${p(q.tenant)}`);
    if (q.since !== undefined) where.push(`t.started_at >= ${p(q.since)}`);
    if (q.until !== undefined) where.push(`t.started_at < ${p(q.until)}`);
    if (q.model !== undefined) where.push(`t.model = ${p(q.model)}`);
    if (q.status !== undefined) where.push(`t.status = ${p(q.status)}`);
    if (q.sessionId !== undefined) where.push(`t.session_id = ${p(q.sessionId)}`);
    if (q.pipeline !== undefined) where.push(`t.pipeline = ${p(q.pipeline)}`);
    if (q.before) {
      const at = p(q.before.startedAt);
      where.push(`(t.started_at < ${at} OR (t.started_at = ${at} AND t.trace_id < ${p(q.before.traceId)}))`);
    }
    const { rows } = await pgQuery<SummaryRow & Record<string, unknown>>(
      this.pool,
      `SELECT ${SUMMARY_COLUMNS} FROM trace_summaries t WHERE ${where.join(" AND ")} ORDER BY t.started_at DESC, t.trace_id DESC LIMIT ${p(q.limit + 1)}`,
      args,
    );
    const more = rows.length > q.limit;
    const traces = await this.withExtras(rows.slice(0, q.limit));
    const last = traces.at(-1);
    return { traces, ...(more && last ? { nextBefore: { startedAt: last.startedAt, traceId: last.traceId } } : {}) };
  }

  async get(traceId: string, tenant?: string): Promise<TraceSummary | undefined> {
    const { rows } = await pgQuery<SummaryRow & Record<string, unknown>>(
      this.pool,
      `SELECT ${SUMMARY_COLUMNS} FROM trace_summaries t WHERE t.trace_id = $1 AND t.name IS NOT NULL ${tenant !== undefined ? "AND t.tenant = $2" : ""}`,
      tenant !== undefined ? [traceId, tenant] : [traceId],
    );
    return rows[0] ? (await this.withExtras([rows[0]]))[0] : undefined;
  }

  async spans(traceId: string): Promise<StoredSpan[]> {
    const { rows } = await pgQuery<SpanRow & Record<string, unknown>>(this.pool, "SELECT * FROM trace_spans WHERE trace_id = $1 ORDER BY start_ms, span_id", [traceId]);
    return rows.map(toSpan);
  }

  async addFeedback(f: TraceFeedback): Promise<void> {
    await pgQuery(this.pool, "INSERT INTO trace_feedback (id, trace_id, tenant, score, comment, created_at) VALUES ($1, $2, $3, $4, $5, $6)", [f.id, f.traceId, f.tenant, f.score, f.comment ?? null, f.createdAt]);
  }

  async listFeedback(traceId: string): Promise<TraceFeedback[]> {
    const { rows } = await pgQuery<FeedbackRow & Record<string, unknown>>(this.pool, "SELECT * FROM trace_feedback WHERE trace_id = $1 ORDER BY created_at, id", [traceId]);
    return rows.map(toFeedback);
  }

  async addScores(scores: TraceScore[]): Promise<void> {
    if (!scores.length) return;
    await withTransaction(this.pool, async (c) => {
      for (const s of scores) {
        await c.query("INSERT INTO trace_scores (trace_id, metric, value, at) VALUES ($1, $2, $3, $4) ON CONFLICT (trace_id, metric) DO UPDATE SET value = EXCLUDED.value, at = EXCLUDED.at", [s.traceId, s.metric, s.value, s.at]);
      }
    });
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    return withTransaction(this.pool, async (c) => {
      const old = "SELECT trace_id FROM trace_summaries WHERE started_at < $1";
      await c.query(`DELETE FROM trace_feedback WHERE trace_id IN (${old})`, [cutoffMs]);
      await c.query(`DELETE FROM trace_scores WHERE trace_id IN (${old})`, [cutoffMs]);
      await c.query(`DELETE FROM trace_spans WHERE trace_id IN (${old})`, [cutoffMs]);
      await c.query("DELETE FROM trace_spans WHERE start_ms < $1", [cutoffMs]);
      const r = await c.query("DELETE FROM trace_summaries WHERE started_at < $1", [cutoffMs]);
      return r.rowCount ?? 0;
    });
  }

  private async withExtras(rows: SummaryRow[]): Promise<TraceSummary[]> {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.trace_id);
    const [fb, sc] = await Promise.all([
      pgQuery<FeedbackRow & Record<string, unknown>>(this.pool, "SELECT * FROM trace_feedback WHERE trace_id = ANY($1) ORDER BY created_at, id", [ids]),
      pgQuery<{ trace_id: string; metric: string; value: number }>(this.pool, "SELECT trace_id, metric, value FROM trace_scores WHERE trace_id = ANY($1)", [ids]),
    ]);
    const feedback = new Map<string, TraceFeedback>();
    for (const r of fb.rows) feedback.set(r.trace_id, toFeedback(r));
    const scores = new Map<string, Record<string, number>>();
    for (const r of sc.rows) {
      const m = scores.get(r.trace_id) ?? {};
      m[r.metric] = Number(r.value);
      scores.set(r.trace_id, m);
    }
    return rows.map((r) => toSummary(r, feedback.get(r.trace_id), scores.get(r.trace_id)));
  }
}
