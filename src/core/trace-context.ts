// Trace context is passed explicitly through the layers (no AsyncLocalStorage:
// its promise hooks cost ~10 % of gateway throughput on Node 20). This is the
// one question every layer asks of such a context before making a span or an
// event: is there a recorded span to hang it on?
import { trace, type Context, type Span } from "@opentelemetry/api";

/** The recorded span of a trace context, or undefined when untraced or unsampled. */
export function recordedSpan(ctx: Context | undefined): Span | undefined {
  const span = ctx && trace.getSpan(ctx);
  return span?.isRecording() ? span : undefined;
}
