// The process-wide OpenTelemetry setup: one BasicTracerProvider, registered
// globally once. No context manager: Stratum passes trace context
// explicitly (request → TurnContext/ServeContext `trace` → stages, model
// calls, tools), because AsyncLocalStorage's promise hooks cost ~10 % of
// gateway throughput on Node 20. Several Stratum instances can live in one
// process (tests, the tracing bench), so spans are routed by context: an
// instance's root context carries its sink, every span started under it
// (children inherit the context) goes to that sink, and a root span without a
// sink is not recorded at all (cheap).
import { createContextKey, trace, TraceFlags, type Attributes, type Context, type Link, type SpanKind } from "@opentelemetry/api";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  SamplingDecision,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type Span,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

/** Where one instance's spans go. */
export interface SpanSink {
  /** Sampling of root spans started under this sink. */
  sampleRoot(traceId: string): boolean;
  onEnd(span: ReadableSpan): void;
}

const SINK = createContextKey("stratum.span-sink");

/** `parent` with spans routed to `sink`. */
export function withSink(sink: SpanSink, parent: Context): Context {
  return parent.setValue(SINK, sink);
}

class SinkSampler implements Sampler {
  shouldSample(ctx: Context, traceId: string, _name: string, _kind: SpanKind, _attrs: Attributes, _links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (parent && trace.isSpanContextValid(parent)) {
      return { decision: parent.traceFlags & TraceFlags.SAMPLED ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    }
    const sink = ctx.getValue(SINK) as SpanSink | undefined;
    return { decision: sink?.sampleRoot(traceId) ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string {
    return "StratumSinkSampler";
  }
}

class RoutingProcessor implements SpanProcessor {
  private readonly owners = new WeakMap<object, SpanSink>();

  onStart(span: Span, parentContext: Context): void {
    const sink = parentContext.getValue(SINK) as SpanSink | undefined;
    if (sink) this.owners.set(span, sink);
  }

  onEnd(span: ReadableSpan): void {
    const sink = this.owners.get(span);
    if (!sink) return;
    this.owners.delete(span);
    sink.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

let installed: boolean | undefined;

/**
 * Registers the provider once per process. False when
 * another tracer provider was registered first (then Stratum's spans go to
 * that one and the trace store stays empty).
 */
export function installTracing(): boolean {
  if (installed !== undefined) return installed;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: "stratum" }),
    sampler: new SinkSampler(),
    spanProcessors: [new RoutingProcessor()],
  });
  installed = trace.setGlobalTracerProvider(provider);
  return installed;
}
