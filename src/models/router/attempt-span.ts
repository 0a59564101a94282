// Spans of the router (plain OpenTelemetry API): `model.call` around one
// routed call, and one `model.attempt` per attempt (after the fact, with its
// measured duration) so a trace shows every retry and fallback. The parent
// comes in explicitly (the caller's trace context); nothing is created when
// its span is not recorded (tracing off or unsampled).
import { SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import { recordedSpan } from "../../core/trace-context.js";
import type { Attempt } from "./router.js";

const tracer = trace.getTracer("stratum");

export function recordAttemptSpan(a: Attempt, parent: Context | undefined): void {
  if (!parent || !recordedSpan(parent)) return;
  const end = performance.timeOrigin + performance.now();
  // Deployment ids are `alias/provider:model`.
  const provider = /\/([^:/]+):/.exec(a.deployment)?.[1] ?? "";
  const span = tracer.startSpan("model.attempt", {
    startTime: end - a.durationMs,
    attributes: {
      "stratum.provider": provider,
      "stratum.deployment": a.deployment,
      "stratum.alias": a.alias,
      "stratum.outcome": a.outcome,
      ...(a.status !== undefined ? { "stratum.status": a.status } : {}),
      "stratum.duration_ms": Math.round(a.durationMs * 1000) / 1000,
    },
  }, parent);
  if (a.outcome !== "success") span.setStatus({ code: SpanStatusCode.ERROR, message: a.message ?? a.outcome });
  span.end(end);
}

/** Runs `fn` inside a `model.call` span when the caller is traced; `fn` gets the span's context (for attempt spans). */
export function withModelCallSpan<T extends { alias: string; attempts: Attempt[]; deployment: { id: string } }>(
  alias: string,
  kind: string,
  parent: Context | undefined,
  fn: (callTrace: Context | undefined) => Promise<T>,
): Promise<T> {
  // Untraced: `fn`'s own promise, not one more async layer around it.
  if (!parent || !recordedSpan(parent)) return fn(undefined);
  return inModelCallSpan(alias, kind, parent, fn);
}

async function inModelCallSpan<T extends { alias: string; attempts: Attempt[]; deployment: { id: string } }>(
  alias: string,
  kind: string,
  parent: Context,
  fn: (callTrace: Context | undefined) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan("model.call", { attributes: { "stratum.alias": alias, "stratum.call": kind } }, parent);
  try {
    const r = await fn(trace.setSpan(parent, span));
    span.setAttributes({ "stratum.served_by": r.alias, "stratum.deployment": r.deployment.id, "stratum.attempts": r.attempts.length, "stratum.fallback": r.alias !== alias });
    return r;
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    span.end();
  }
}
