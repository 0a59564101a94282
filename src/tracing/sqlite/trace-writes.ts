// The span and summary writes of a TraceStore on SQLite, as one IMMEDIATE
// transaction per batch: each trace's spans of the batch as one JSON row.
// Used on the request thread for an in-memory database and by the write
// thread (trace-write-worker.ts) for a file; it imports nothing but types so
// the worker's module graph stays small.
import type { SqliteDb } from "../../data/sqlite/database.js";
import type { StoredSpan, TraceBatch, TraceSummaryPatch } from "../types.js";

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
function summaryParams(p: TraceSummaryPatch): Record<string, string | number | null> {
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

/** The batch writer for `db` (the trace schema must exist). */
export function prepareTraceWrites(db: SqliteDb): (batch: TraceBatch) => void {
  const insertSet = db.prepare("INSERT INTO trace_span_sets (trace_id, start_ms, spans) VALUES (?, ?, ?)");
  const upsert = db.prepare(UPSERT_SUMMARY);
  const tx = db.transaction((b: TraceBatch) => {
    for (const [traceId, spans] of byTrace(b.spans)) {
      let start = Infinity;
      for (const s of spans) start = Math.min(start, s.startMs);
      insertSet.run(traceId, start, JSON.stringify(spans));
    }
    for (const p of b.summaries) upsert.run(summaryParams(p));
  });
  return (batch) => tx.immediate(batch);
}

function byTrace(spans: readonly StoredSpan[]): Map<string, StoredSpan[]> {
  const out = new Map<string, StoredSpan[]>();
  for (const s of spans) {
    const list = out.get(s.traceId);
    if (list) list.push(s);
    else out.set(s.traceId, [s]);
  }
  return out;
}
