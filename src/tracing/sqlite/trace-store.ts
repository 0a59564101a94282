// TraceStore on the SQLite file: spans, one summary row per trace (merged
// from span patches by upsert, so span order does not matter), feedback and
// online-eval scores. Its own idempotent schema, applied when built.
import type { SqliteDb } from "../../data/index.js";
import { SUMMARY_COLUMNS, toFeedback, toSpan, toSummary, type FeedbackRow, type SpanRow, type SummaryRow } from "../summary-row.js";
import type { StoredSpan, TraceBatch, TraceFeedback, TracePage, TraceQuery, TraceScore, TraceStore, TraceSummary, TraceSummaryPatch } from "../types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS trace_summaries (
  trace_id         TEXT PRIMARY KEY,
  name             TEXT,
  started_at       INTEGER NOT NULL,
  duration_ms      REAL,
  status           TEXT,
  tenant           TEXT,
  model            TEXT,
  pipeline         TEXT,
  pipeline_version INTEGER,
  session_id       TEXT,
  user_id          TEXT,
  http_status      INTEGER,
  tokens_in        INTEGER,
  tokens_out       INTEGER,
  cost_usd         REAL
);
-- Lists are always by tenant (the API scopes them); retention scans by time.
CREATE INDEX IF NOT EXISTS trace_summaries_started ON trace_summaries (started_at);
CREATE INDEX IF NOT EXISTS trace_summaries_tenant_time ON trace_summaries (tenant, started_at DESC, trace_id DESC);
CREATE TABLE IF NOT EXISTS trace_spans (
  trace_id       TEXT NOT NULL,
  span_id        TEXT NOT NULL,
  parent_span_id TEXT,
  name           TEXT NOT NULL,
  start_ms       REAL NOT NULL,
  end_ms         REAL NOT NULL,
  status         TEXT NOT NULL,
  status_message TEXT,
  attributes     TEXT NOT NULL,
  events         TEXT NOT NULL
);
-- A rowid table: rows append in arrival order; only the narrow index is keyed by the random trace id.
CREATE UNIQUE INDEX IF NOT EXISTS trace_spans_id ON trace_spans (trace_id, span_id);
CREATE INDEX IF NOT EXISTS trace_spans_start ON trace_spans (start_ms);
CREATE TABLE IF NOT EXISTS trace_feedback (
  id         TEXT PRIMARY KEY,
  trace_id   TEXT NOT NULL,
  tenant     TEXT NOT NULL,
  score      REAL NOT NULL,
  comment    TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_feedback_trace ON trace_feedback (trace_id, created_at);
CREATE TABLE IF NOT EXISTS trace_scores (
  trace_id TEXT NOT NULL,
  metric   TEXT NOT NULL,
  value    REAL NOT NULL,
  at       INTEGER NOT NULL,
  PRIMARY KEY (trace_id, metric)
) WITHOUT ROWID;
`;

const UPSERT_SUMMARY = `
INSERT INTO trace_summaries (trace_id, name, started_at, duration_ms, status, tenant, model, pipeline, pipeline_version, session_id, user_id, http_status, tokens_in, tokens_out, cost_usd)
VALUES (@traceId, @name, @startedAt, @durationMs, @status, @tenant, @model, @pipeline, @pipelineVersion, @sessionId, @user, @httpStatus, @tokensIn, @tokensOut, @costUsd)
ON CONFLICT (trace_id) DO UPDATE SET
  started_at = MIN(started_at, excluded.started_at),
  name = COALESCE(excluded.name, name),
  duration_ms = COALESCE(excluded.duration_ms, duration_ms),
  status = COALESCE(excluded.status, status),
  tenant = COALESCE(excluded.tenant, tenant),
  model = COALESCE(excluded.model, model),
  pipeline = COALESCE(excluded.pipeline, pipeline),
  pipeline_version = COALESCE(excluded.pipeline_version, pipeline_version),
  session_id = COALESCE(excluded.session_id, session_id),
  user_id = COALESCE(excluded.user_id, user_id),
  http_status = COALESCE(excluded.http_status, http_status),
  tokens_in = COALESCE(excluded.tokens_in, tokens_in),
  tokens_out = COALESCE(excluded.tokens_out, tokens_out),
  cost_usd = COALESCE(excluded.cost_usd, cost_usd)`;

/** Named parameters of UPSERT_SUMMARY (null = not known from this patch). */
export function summaryParams(p: TraceSummaryPatch): Record<string, string | number | null> {
  return {
    traceId: p.traceId,
    name: p.root?.name ?? null,
    startedAt: p.startedAt,
    durationMs: p.root?.durationMs ?? null,
    status: p.root?.status ?? null,
    tenant: p.tenant ?? null,
    model: p.model ?? null,
    pipeline: p.pipeline ?? null,
    pipelineVersion: p.pipelineVersion ?? null,
    sessionId: p.sessionId ?? null,
    user: p.user ?? null,
    httpStatus: p.httpStatus ?? null,
    tokensIn: p.tokensIn ?? null,
    tokensOut: p.tokensOut ?? null,
    costUsd: p.costUsd ?? null,
  };
}

export class SqliteTraceStore implements TraceStore {
  private readonly writeBatch;
  private readonly insertScores;
  private readonly deleteOld;

  constructor(private readonly db: SqliteDb) {
    db.exec(SCHEMA);
    const insertSpan = db.prepare(
      `INSERT OR REPLACE INTO trace_spans (trace_id, span_id, parent_span_id, name, start_ms, end_ms, status, status_message, attributes, events)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const upsert = db.prepare(UPSERT_SUMMARY);
    this.writeBatch = db.transaction((b: TraceBatch) => {
      for (const s of b.spans) {
        insertSpan.run(s.traceId, s.spanId, s.parentSpanId ?? null, s.name, s.startMs, s.endMs, s.status, s.statusMessage ?? null, JSON.stringify(s.attributes), JSON.stringify(s.events));
      }
      for (const p of b.summaries) upsert.run(summaryParams(p));
    });
    const score = db.prepare("INSERT OR REPLACE INTO trace_scores (trace_id, metric, value, at) VALUES (?, ?, ?, ?)");
    this.insertScores = db.transaction((scores: readonly TraceScore[]) => {
      for (const s of scores) score.run(s.traceId, s.metric, s.value, s.at);
    });
    this.deleteOld = db.transaction((cutoff: number) => {
      const old = "SELECT trace_id FROM trace_summaries WHERE started_at < ?";
      db.prepare(`DELETE FROM trace_feedback WHERE trace_id IN (${old})`).run(cutoff);
      db.prepare(`DELETE FROM trace_scores WHERE trace_id IN (${old})`).run(cutoff);
      db.prepare(`DELETE FROM trace_spans WHERE trace_id IN (${old})`).run(cutoff);
      // Spans of traces whose root never arrived (a crash mid-request) age out by their own start.
      db.prepare("DELETE FROM trace_spans WHERE start_ms < ?").run(cutoff);
      return db.prepare("DELETE FROM trace_summaries WHERE started_at < ?").run(cutoff).changes;
    });
  }

  async write(batch: TraceBatch): Promise<void> {
    if (batch.spans.length || batch.summaries.length) this.writeBatch.immediate(batch);
  }

  async list(q: TraceQuery): Promise<TracePage> {
    const where = ["t.name IS NOT NULL"];
    const args: Array<string | number> = [];
    const add = (sql: string, ...v: Array<string | number>) => {
      where.push(sql);
      args.push(...v);
    };
    if (q.tenant !== undefined) add("t.tenant = ?", q.tenant);
    if (q.since !== undefined) add("t.started_at >= ?", q.since);
    if (q.until !== undefined) add("t.started_at < ?", q.until);
    if (q.model !== undefined) add("t.model = ?", q.model);
    if (q.status !== undefined) add("t.status = ?", q.status);
    if (q.sessionId !== undefined) add("t.session_id = ?", q.sessionId);
    if (q.pipeline !== undefined) add("t.pipeline = ?", q.pipeline);
    if (q.before) add("(t.started_at < ? OR (t.started_at = ? AND t.trace_id < ?))", q.before.startedAt, q.before.startedAt, q.before.traceId);
    const rows = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM trace_summaries t WHERE ${where.join(" AND ")} ORDER BY t.started_at DESC, t.trace_id DESC LIMIT ?`)
      .all(...args, q.limit + 1) as SummaryRow[];
    const more = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    const traces = this.withExtras(page);
    const last = traces.at(-1);
    return { traces, ...(more && last ? { nextBefore: { startedAt: last.startedAt, traceId: last.traceId } } : {}) };
  }

  async get(traceId: string, tenant?: string): Promise<TraceSummary | undefined> {
    const row = this.db
      .prepare(`SELECT ${SUMMARY_COLUMNS} FROM trace_summaries t WHERE t.trace_id = ? AND t.name IS NOT NULL ${tenant !== undefined ? "AND t.tenant = ?" : ""}`)
      .get(...(tenant !== undefined ? [traceId, tenant] : [traceId])) as SummaryRow | undefined;
    return row ? this.withExtras([row])[0] : undefined;
  }

  async spans(traceId: string): Promise<StoredSpan[]> {
    return (this.db.prepare("SELECT * FROM trace_spans WHERE trace_id = ? ORDER BY start_ms, span_id").all(traceId) as SpanRow[]).map(toSpan);
  }

  async addFeedback(f: TraceFeedback): Promise<void> {
    this.db.prepare("INSERT INTO trace_feedback (id, trace_id, tenant, score, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)").run(f.id, f.traceId, f.tenant, f.score, f.comment ?? null, f.createdAt);
  }

  async listFeedback(traceId: string): Promise<TraceFeedback[]> {
    return (this.db.prepare("SELECT * FROM trace_feedback WHERE trace_id = ? ORDER BY created_at, id").all(traceId) as FeedbackRow[]).map(toFeedback);
  }

  async addScores(scores: TraceScore[]): Promise<void> {
    if (scores.length) this.insertScores.immediate(scores);
  }

  async deleteOlderThan(cutoffMs: number): Promise<number> {
    return this.deleteOld.immediate(cutoffMs);
  }

  /** Latest feedback and the scores of the given rows (two queries for the page, not two per row). */
  private withExtras(rows: SummaryRow[]): TraceSummary[] {
    if (rows.length === 0) return [];
    const ids = rows.map((r) => r.trace_id);
    const marks = ids.map(() => "?").join(", ");
    const feedback = new Map<string, TraceFeedback>();
    for (const r of this.db.prepare(`SELECT * FROM trace_feedback WHERE trace_id IN (${marks}) ORDER BY created_at, id`).all(...ids) as FeedbackRow[]) feedback.set(r.trace_id, toFeedback(r));
    const scores = new Map<string, Record<string, number>>();
    for (const r of this.db.prepare(`SELECT trace_id, metric, value FROM trace_scores WHERE trace_id IN (${marks})`).all(...ids) as Array<{ trace_id: string; metric: string; value: number }>) {
      const m = scores.get(r.trace_id) ?? {};
      m[r.metric] = r.value;
      scores.set(r.trace_id, m);
    }
    return rows.map((r) => toSummary(r, feedback.get(r.trace_id), scores.get(r.trace_id)));
  }
}
