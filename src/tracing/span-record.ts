// A finished span → the stored span and what it tells about its trace's
// summary. Runs when the span ends; the writer queues the result.
import { SpanStatusCode, type HrTime } from "@opentelemetry/api";
import { ATTR } from "./attributes.js";
import type { RecordedSpan } from "./recorded-span.js";
import type { StoredSpan, TraceSummaryPatch } from "./types.js";

const ms = (t: HrTime): number => t[0] * 1000 + t[1] / 1e6;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** An ended span is immutable: its attributes object is taken over, not copied. */
export function toStoredSpan(s: RecordedSpan): StoredSpan {
  const ctx = s.spanContext();
  const out: StoredSpan = {
    traceId: ctx.traceId,
    spanId: ctx.spanId,
    name: s.name,
    startMs: round3(s.startMs),
    endMs: round3(s.endMs),
    status: s.status.code === SpanStatusCode.ERROR ? "error" : s.status.code === SpanStatusCode.OK ? "ok" : "unset",
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, time_ms: round3(ms(e.time)), attributes: e.attributes ?? {} })),
  };
  if (s.parentSpanContext?.spanId) out.parentSpanId = s.parentSpanContext.spanId;
  if (s.status.message) out.statusMessage = s.status.message;
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** The summary fields this span carries (undefined when it carries none and is not the root). */
export function summaryPatch(s: StoredSpan): TraceSummaryPatch | undefined {
  const a = s.attributes;
  const p: TraceSummaryPatch = { traceId: s.traceId, startedAt: Math.floor(s.startMs) };
  let any = false;
  const set = <K extends keyof TraceSummaryPatch>(k: K, v: TraceSummaryPatch[K] | undefined) => {
    if (v === undefined) return;
    p[k] = v;
    any = true;
  };
  set("tenant", str(a[ATTR.tenant]));
  set("model", str(a[ATTR.model]));
  set("pipeline", str(a[ATTR.pipeline]));
  set("pipelineVersion", num(a[ATTR.pipelineVersion]));
  set("sessionId", str(a[ATTR.sessionId]));
  set("user", str(a[ATTR.user]));
  set("httpStatus", num(a[ATTR.httpStatus]));
  set("tokensIn", num(a[ATTR.tokensIn]));
  set("tokensOut", num(a[ATTR.tokensOut]));
  set("costUsd", num(a[ATTR.costUsd]));
  if (s.parentSpanId === undefined) {
    const http = p.httpStatus;
    const failed = s.status === "error" || (http !== undefined && http >= 500);
    p.root = { name: s.name, durationMs: round3(s.endMs - s.startMs), status: failed ? "error" : "ok" };
    any = true;
  }
  return any ? p : undefined;
}
