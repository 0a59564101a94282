// TraceStore on the SQLite file: spans, one summary row per trace (merged
// from span patches by upsert, so span order does not matter), feedback and
// online-eval scores. Its own idempotent schema, applied when built.
import type { SqliteDb } from "../../data/index.js";
import { summaryColumns, toFeedback, toSummary, type FeedbackRow, type SummaryRow } from "../summary-row.js";
import type { StoredSpan, TraceBatch, TraceFeedback, TracePage, TraceQuery, TraceScore, TraceStore, TraceSummary } from "../types.js";
import { prepareTraceWrites } from "./trace-writes.js";
import { TraceWriteThread } from "./trace-write-thread.js";

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
-- A trace's spans as JSON arrays, one row per trace per written batch (usually one per
-- trace): a request costs one row and two index entries instead of three per span.
CREATE TABLE IF NOT EXISTS trace_span_sets (
  trace_id TEXT NOT NULL,
  start_ms REAL NOT NULL,
  spans    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS trace_span_sets_trace ON trace_span_sets (trace_id);
CREATE INDEX IF NOT EXISTS trace_span_sets_start ON trace_span_sets (start_ms);
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

/** Spans stored one row each by earlier versions move into span sets (one per trace), once. */
function migrateSpanRows(db: SqliteDb): void {
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trace_spans'").get()) return;
  db.transaction(() => {
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'trace_spans'").get()) return;
    db.exec(`INSERT INTO trace_span_sets (trace_id, start_ms, spans)
      SELECT trace_id, MIN(start_ms), json_group_array(json_object(
        'traceId', trace_id, 'spanId', span_id, 'parentSpanId', parent_span_id, 'name', name, 'startMs', start_ms, 'endMs', end_ms,
        'status', status, 'statusMessage', status_message, 'attributes', json(attributes), 'events', json(events)))
      FROM trace_spans GROUP BY trace_id;
      DROP TABLE trace_spans;`);
  }).immediate();
}

const SUMMARY_COLUMNS = summaryColumns("(SELECT COALESCE(SUM(json_array_length(s.spans)), 0) FROM trace_span_sets s WHERE s.trace_id = t.trace_id)");

export class SqliteTraceStore implements TraceStore {
  private readonly writer: TraceWriteThread | ((b: TraceBatch) => void);
  private readonly insertScores;
  private readonly deleteOld;

  constructor(private readonly db: SqliteDb) {
    db.exec(SCHEMA);
    migrateSpanRows(db);
    // A file's span writes go to a worker thread with its own connection (the
    // inserts and index updates cost the request thread ~100 µs a request);
    // an in-memory database cannot be shared with one, so it writes here.
    const thread = db.memory ? undefined : writeThread(db.name);
    this.writer = thread ?? prepareTraceWrites(db);
    // The thread writes most of the WAL, so it should run the checkpoints (they
    // copy pages back into the file and fsync it): this connection's commits
    // (usage rows, on the request thread) start one only at 10x the usual WAL
    // size, a bound for when the thread is gone.
    if (thread) db.pragma("wal_autocheckpoint = 10000");
    const score = db.prepare("INSERT OR REPLACE INTO trace_scores (trace_id, metric, value, at) VALUES (?, ?, ?, ?)");
    this.insertScores = db.transaction((scores: readonly TraceScore[]) => {
      for (const s of scores) score.run(s.traceId, s.metric, s.value, s.at);
    });
    this.deleteOld = db.transaction((cutoff: number) => {
      const old = "SELECT trace_id FROM trace_summaries WHERE started_at < ?";
      db.prepare(`DELETE FROM trace_feedback WHERE trace_id IN (${old})`).run(cutoff);
      db.prepare(`DELETE FROM trace_scores WHERE trace_id IN (${old})`).run(cutoff);
      db.prepare(`DELETE FROM trace_span_sets WHERE trace_id IN (${old})`).run(cutoff);
      // Spans of traces whose root never arrived (a crash mid-request) age out by their own start.
      db.prepare("DELETE FROM trace_span_sets WHERE start_ms < ?").run(cutoff);
      return db.prepare("DELETE FROM trace_summaries WHERE started_at < ?").run(cutoff).changes;
    });
  }

  async write(batch: TraceBatch): Promise<void> {
    if (!batch.spans.length && !batch.summaries.length) return;
    if (typeof this.writer === "function") this.writer(batch);
    else await this.writer.write(batch);
  }

  /** Ends the write thread (after its writes in flight); the database itself is the caller's to close. */
  async close(): Promise<void> {
    if (typeof this.writer !== "function") await this.writer.close();
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
    // A span written twice (same id) keeps its last copy, as a row replace would.
    const byId = new Map<string, StoredSpan>();
    for (const r of this.db.prepare("SELECT spans FROM trace_span_sets WHERE trace_id = ? ORDER BY rowid").all(traceId) as Array<{ spans: string }>) {
      for (const s of JSON.parse(r.spans) as StoredSpan[]) byId.set(s.spanId, withoutNulls(s));
    }
    return [...byId.values()].sort((a, b) => a.startMs - b.startMs || (a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0));
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

/** Optional fields absent rather than null (migrated rows carry SQL NULLs). */
function withoutNulls(s: StoredSpan): StoredSpan {
  if (s.parentSpanId === null) delete s.parentSpanId;
  if (s.statusMessage === null) delete s.statusMessage;
  return s;
}

/** The write thread for `file`, or undefined (with a warning) when its entry is missing: then writes happen in place. */
function writeThread(file: string): TraceWriteThread | undefined {
  try {
    return new TraceWriteThread(file);
  } catch (e) {
    process.emitWarning(`trace writes stay on the request thread: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}
