// The process-wide tracer: registered once as OpenTelemetry's global tracer
// provider, so every layer makes spans with the plain API
// (`trace.getTracer("stratum")`). No context manager: Stratum passes trace
// context explicitly (request → TurnContext/ServeContext `trace` → stages,
// model calls, tools), because AsyncLocalStorage's promise hooks cost ~10 %
// of gateway throughput on Node 20. Several Stratum instances can live in one
// process (tests, the tracing bench), so spans are routed by context: an
// instance's root context carries its sink, every span started under it
// (children inherit the context) goes to that sink, and a root span without a
// sink is not recorded at all (cheap).
//
// The spans are RecordedSpans (recorded-span.ts), not the SDK's: the trace
// store is the main consumer and the SDK's per-span machinery cost more than
// the store write itself. They are SDK-readable, so OTLP export still uses
// the SDK's BatchSpanProcessor and exporter.
import {
  context as contextApi,
  createContextKey,
  trace,
  SpanKind,
  TraceFlags,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { newSpanId, newTraceId } from "./ids.js";
import { RecordedSpan, type EndedSpanSink, type InstrumentationScope } from "./recorded-span.js";

/** Where one instance's spans go. */
export interface SpanSink extends EndedSpanSink {
  /** Sampling of root spans started under this sink. */
  sampleRoot(traceId: string): boolean;
}

const SINK = createContextKey("stratum.span-sink");

/** `parent` with spans routed to `sink`. */
export function withSink(sink: SpanSink, parent: Context): Context {
  return parent.setValue(SINK, sink);
}

class StratumTracer implements Tracer {
  constructor(private readonly scope: InstrumentationScope) {}

  startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    const parentSpan = options.root ? undefined : trace.getSpanContext(ctx);
    const parent = parentSpan && trace.isSpanContextValid(parentSpan) ? parentSpan : undefined;
    const traceId = parent?.traceId ?? newTraceId();
    const sink = ctx.getValue(SINK) as SpanSink | undefined;
    const sampled = sink !== undefined && (parent ? (parent.traceFlags & TraceFlags.SAMPLED) !== 0 : sink.sampleRoot(traceId));
    const spanContext: SpanContext = { traceId, spanId: newSpanId(), traceFlags: sampled ? TraceFlags.SAMPLED : TraceFlags.NONE };
    // Unsampled: a context-only span, so children stay unsampled and nothing is recorded.
    if (!sampled) return trace.wrapSpanContext(spanContext);
    return new RecordedSpan({
      context: spanContext,
      name,
      kind: options.kind ?? SpanKind.INTERNAL,
      parent,
      attributes: options.attributes,
      startTime: options.startTime,
      links: options.links,
      sink,
      scope: this.scope,
    });
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args.pop() as F;
    const [options, ctx] = args as [SpanOptions | undefined, Context | undefined];
    const parent = ctx ?? contextApi.active();
    const span = this.startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (s: Span) => ReturnType<F>, undefined, span);
  }
}

class StratumTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, StratumTracer>();

  getTracer(name: string, version?: string): Tracer {
    const key = `${name}@${version ?? ""}`;
    let t = this.tracers.get(key);
    if (!t) this.tracers.set(key, (t = new StratumTracer({ name, ...(version ? { version } : {}) })));
    return t;
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
  installed = trace.setGlobalTracerProvider(new StratumTracerProvider());
  return installed;
}
