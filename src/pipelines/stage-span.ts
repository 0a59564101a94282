// A pipeline stage as a span `pipeline.<stage>` (plain OpenTelemetry API),
// active while the stage runs so model calls and guardrail events nest under
// it. When the request is not traced the stage runs with a no-op span.
import { INVALID_SPAN_CONTEXT, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";

const tracer = trace.getTracer("stratum");
const NOOP: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export async function stage<T>(name: string, fn: (span: Span) => Promise<T> | T, attributes?: Attributes): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return fn(NOOP);
  return tracer.startActiveSpan(`pipeline.${name}`, attributes ? { attributes } : {}, async (span) => {
    try {
      return await fn(span);
    } catch (e) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
      throw e;
    } finally {
      span.end();
    }
  });
}
