// The summary row as both SQL stores read it, and its mapping to TraceSummary.
import type { StoredSpan, TraceFeedback, TraceSummary } from "./types.js";

export interface SummaryRow {
  trace_id: string;
  name: string;
  started_at: number | string;
  duration_ms: number | string;
  status: "ok" | "error";
  tenant: string | null;
  model: string | null;
  pipeline: string | null;
  pipeline_version: number | string | null;
  session_id: string | null;
  user_id: string | null;
  http_status: number | string | null;
  tokens_in: number | string | null;
  tokens_out: number | string | null;
  cost_usd: number | string | null;
  span_count: number | string;
}

/** Columns of a list/get query (`t` is trace_summaries), with the store's own `span_count` expression. */
export function summaryColumns(spanCount: string): string {
  return `t.trace_id, t.name, t.started_at, t.duration_ms, t.status, t.tenant, t.model, t.pipeline, t.pipeline_version,
  t.session_id, t.user_id, t.http_status, t.tokens_in, t.tokens_out, t.cost_usd, ${spanCount} AS span_count`;
}

const num = (v: number | string | null): number | undefined => (v === null ? undefined : Number(v));

export function toSummary(r: SummaryRow, feedback: TraceFeedback | undefined, scores: Record<string, number> | undefined): TraceSummary {
  const s: TraceSummary = {
    traceId: r.trace_id,
    name: r.name,
    startedAt: Number(r.started_at),
    durationMs: Number(r.duration_ms),
    status: r.status,
    tenant: r.tenant ?? "",
    model: r.model ?? "",
    tokensIn: num(r.tokens_in) ?? 0,
    tokensOut: num(r.tokens_out) ?? 0,
    costUsd: num(r.cost_usd) ?? 0,
    spanCount: Number(r.span_count),
  };
  if (r.pipeline !== null) s.pipeline = r.pipeline;
  if (r.pipeline_version !== null) s.pipelineVersion = Number(r.pipeline_version);
  if (r.session_id !== null) s.sessionId = r.session_id;
  if (r.user_id !== null) s.user = r.user_id;
  if (r.http_status !== null) s.httpStatus = Number(r.http_status);
  if (feedback) s.feedback = { score: feedback.score, ...(feedback.comment !== undefined ? { comment: feedback.comment } : {}) };
  if (scores && Object.keys(scores).length) s.scores = scores;
  return s;
}

export interface SpanRow {
  trace_id: string;
  span_id: string;
  parent_span_id: string | null;
  name: string;
  start_ms: number | string;
  end_ms: number | string;
  status: StoredSpan["status"];
  status_message: string | null;
  attributes: string | Record<string, unknown>;
  events: string | StoredSpan["events"];
}

export function toSpan(r: SpanRow): StoredSpan {
  const s: StoredSpan = {
    traceId: r.trace_id,
    spanId: r.span_id,
    name: r.name,
    startMs: Number(r.start_ms),
    endMs: Number(r.end_ms),
    status: r.status,
    attributes: typeof r.attributes === "string" ? (JSON.parse(r.attributes) as Record<string, unknown>) : r.attributes,
    events: typeof r.events === "string" ? (JSON.parse(r.events) as StoredSpan["events"]) : r.events,
  };
  if (r.parent_span_id !== null) s.parentSpanId = r.parent_span_id;
  if (r.status_message !== null) s.statusMessage = r.status_message;
  return s;
}

export interface FeedbackRow {
  id: string;
  trace_id: string;
  tenant: string;
  score: number | string;
  comment: string | null;
  created_at: number | string;
}

export function toFeedback(r: FeedbackRow): TraceFeedback {
  return { id: r.id, traceId: r.trace_id, tenant: r.tenant, score: Number(r.score), ...(r.comment !== null ? { comment: r.comment } : {}), createdAt: Number(r.created_at) };
}
