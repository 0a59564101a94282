// The root span of a chat request (`gateway.request`), made with the plain
// OpenTelemetry API under the tracing context. Its trace id goes out in
// `x-stratum-trace-id`. Accounting (ChatFlow.account) ends it once tokens and
// cost are known, after the response (for streams: after the stream ended);
// a request that fails before admission is ended here.
import { SpanKind, SpanStatusCode, trace, TraceFlags, type Context, type Span } from "@opentelemetry/api";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ApiKeyRecord } from "../data/types.js";
import type { GatewayContext } from "./context.js";
import type { GatewayTracing } from "../tracing/index.js";
import { toHttpError } from "./http-errors.js";

export const TRACE_ID_HEADER = "x-stratum-trace-id";

const tracer = trace.getTracer("stratum");

/** A traced request's root span and the context its children start under (passed down explicitly). */
export interface RequestTrace {
  span: Span;
  context: Context;
  /** Set when the trace is recorded (sampled): sent as `x-stratum-trace-id` and in `stratum.trace_id`. */
  traceId: string | undefined;
}

export function withRequestSpan<T>(g: GatewayContext, request: FastifyRequest, reply: FastifyReply, key: ApiKeyRecord, fn: (rt: RequestTrace | undefined) => Promise<T>): Promise<T> {
  // Untraced: `fn`'s own promise, not one more async layer around it.
  return g.tracing ? inRequestSpan(g.tracing, request, reply, key, fn) : fn(undefined);
}

async function inRequestSpan<T>(tracing: GatewayTracing, request: FastifyRequest, reply: FastifyReply, key: ApiKeyRecord, fn: (rt: RequestTrace | undefined) => Promise<T>): Promise<T> {
  const attributes = { "stratum.tenant": key.tenant, "stratum.key_id": key.id, "stratum.request_id": request.id, "http.route": request.routeOptions.url ?? "" };
  const parent = tracing.requestContext();
  const span = tracer.startSpan("gateway.request", { kind: SpanKind.SERVER, attributes }, parent);
  const traceId = sampledTraceId(span);
  // Also on error replies; a streamed reply writes its own headers (serve-chat).
  if (traceId) reply.header(TRACE_ID_HEADER, traceId);
  try {
    return await fn({ span, context: trace.setSpan(parent, span), traceId });
  } catch (e) {
    if (span.isRecording()) {
      const status = toHttpError(e).status;
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      span.end();
    }
    throw e;
  }
}

/** The trace id when the span is recorded (sampled), else undefined. */
function sampledTraceId(span: Span | undefined): string | undefined {
  const ctx = span?.spanContext();
  return ctx && trace.isSpanContextValid(ctx) && ctx.traceFlags & TraceFlags.SAMPLED ? ctx.traceId : undefined;
}

/** The pipeline (and registry version) that answered, onto the root span: the trace summary lists it for every kind of pipeline. */
export function annotatePipeline(span: Span | undefined, ext: Record<string, unknown>): void {
  if (!span?.isRecording()) return;
  if (typeof ext.pipeline === "string") span.setAttribute("stratum.pipeline", ext.pipeline);
  if (typeof ext.pipeline_version === "number") span.setAttribute("stratum.pipeline.version", ext.pipeline_version);
}
