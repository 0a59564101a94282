// A pipeline stage as a span `pipeline.<stage>` (plain OpenTelemetry API).
// The trace context is passed explicitly: the stage's callback gets the
// caller's context with the stage span as parent (`inner`), so model calls
// made with it nest under the stage. When the request is not traced the
// stage runs with a no-op span and the context unchanged.
import { INVALID_SPAN_CONTEXT, SpanStatusCode, trace, type Attributes, type Context, type Span } from "@opentelemetry/api";
import { recordedSpan } from "../core/trace-context.js";

const tracer = trace.getTracer("stratum");
const NOOP: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** A context that may carry a trace (TurnContext and the like). */
export interface Traced {
  trace?: Context;
}

export async function stage<C extends Traced, T>(ctx: C, name: string, fn: (span: Span, inner: C) => Promise<T> | T, attributes?: Attributes): Promise<T> {
  if (!ctx.trace || !recordedSpan(ctx.trace)) return fn(NOOP, ctx);
  const span = tracer.startSpan(`pipeline.${name}`, attributes ? { attributes } : {}, ctx.trace);
  try {
    return await fn(span, { ...ctx, trace: trace.setSpan(ctx.trace, span) });
  } catch (e) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
    throw e;
  } finally {
    span.end();
  }
}
