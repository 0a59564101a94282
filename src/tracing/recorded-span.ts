// A recorded span: the OpenTelemetry `Span` API over plain fields, readable
// as an SDK `ReadableSpan` (so the OTLP exporter takes it as is). Stratum's
// spans go to its own trace store, which wants epoch milliseconds and plain
// attributes; the SDK's span (hrtime clocks, attribute sanitising with
// limits, span processors, a WeakMap to route each span) cost ~4x more per
// span on the request thread. Times are kept in ms; the HrTime views are
// computed only when an exporter reads them.
import { SpanStatusCode, type Attributes, type AttributeValue, type Exception, type HrTime, type Link, type Span, type SpanContext, type SpanKind, type SpanStatus, type TimeInput } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { serviceResource } from "./service-resource.js";

/** The tracer a span came from (the SDK's InstrumentationScope, declared here: @opentelemetry/core is not a dependency of ours). */
export interface InstrumentationScope {
  name: string;
  version?: string;
  schemaUrl?: string;
}

/** Epoch milliseconds with sub-millisecond precision (monotonic within the process). */
const nowMs = (): number => performance.timeOrigin + performance.now();

const toHrTime = (ms: number): HrTime => {
  const s = Math.floor(ms / 1000);
  return [s, Math.round((ms - s * 1000) * 1e6)];
};

/** TimeInput (epoch ms number, HrTime or Date) → epoch ms; undefined → now. */
function timeMs(t: TimeInput | undefined): number {
  if (t === undefined) return nowMs();
  if (typeof t === "number") return t;
  if (t instanceof Date) return t.getTime();
  return t[0] * 1000 + t[1] / 1e6;
}

function isTimeInput(v: unknown): v is TimeInput {
  return typeof v === "number" || v instanceof Date || (Array.isArray(v) && v.length === 2 && typeof v[0] === "number");
}

/** The attribute values the OpenTelemetry spec allows; anything else is dropped (as the SDK does). */
function validValue(v: unknown): v is AttributeValue {
  return isPrimitive(v) || (Array.isArray(v) && v.every((x) => x == null || isPrimitive(x)));
}

function isPrimitive(v: unknown): boolean {
  const t = typeof v;
  return t === "string" || t === "number" || t === "boolean";
}

/** Where an ended span goes. */
export interface EndedSpanSink {
  onEnd(span: RecordedSpan): void;
}

export interface RecordedSpanInit {
  context: SpanContext;
  name: string;
  kind: SpanKind;
  parent: SpanContext | undefined;
  attributes: Attributes | undefined;
  startTime: TimeInput | undefined;
  links: Link[] | undefined;
  sink: EndedSpanSink;
  scope: InstrumentationScope;
}

export class RecordedSpan implements Span, ReadableSpan {
  name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly attributes: Attributes = {};
  readonly links: Link[];
  readonly events: TimedEvent[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  readonly startMs: number;
  endMs = 0;
  ended = false;
  readonly instrumentationScope: InstrumentationScope;
  droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly ctx: SpanContext;
  private readonly sink: EndedSpanSink;

  constructor(init: RecordedSpanInit) {
    this.ctx = init.context;
    this.name = init.name;
    this.kind = init.kind;
    this.parentSpanContext = init.parent;
    this.links = init.links ?? [];
    this.sink = init.sink;
    this.instrumentationScope = init.scope;
    this.startMs = timeMs(init.startTime);
    if (init.attributes) this.setAttributes(init.attributes);
  }

  /** For exporters (ReadableSpan); built on first read. */
  get resource(): Resource {
    return serviceResource();
  }

  spanContext(): SpanContext {
    return this.ctx;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (this.ended || key.length === 0) return this;
    if (validValue(value)) this.attributes[key] = value;
    else if (value !== undefined && value !== null) this.droppedAttributesCount++;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.ended) return this;
    const timed = isTimeInput(attributesOrTime);
    const attributes: Attributes = {};
    if (!timed && attributesOrTime) for (const k in attributesOrTime) if (validValue(attributesOrTime[k])) attributes[k] = attributesOrTime[k];
    this.events.push({ name, attributes, time: toHrTime(timeMs(timed ? attributesOrTime : time)), droppedAttributesCount: 0 });
    return this;
  }

  addLink(link: Link): this {
    if (!this.ended) this.links.push(link);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const l of links) this.addLink(l);
    return this;
  }

  /** OK is final; UNSET never overrides; a message only goes with ERROR (the spec's rules). */
  setStatus(status: SpanStatus): this {
    if (this.ended || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === "string" ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.ended) this.name = name;
    return this;
  }

  end(endTime?: TimeInput): void {
    if (this.ended) return;
    this.ended = true;
    this.endMs = Math.max(this.startMs, timeMs(endTime));
    this.sink.onEnd(this);
  }

  isRecording(): boolean {
    return !this.ended;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === "string") attributes["exception.message"] = exception;
    else {
      if (exception.name || exception.code !== undefined) attributes["exception.type"] = exception.name ?? String(exception.code);
      if (exception.message) attributes["exception.message"] = exception.message;
      if (exception.stack) attributes["exception.stacktrace"] = exception.stack;
    }
    this.addEvent("exception", attributes, time);
  }

  // The ReadableSpan views an exporter reads.
  get startTime(): HrTime {
    return toHrTime(this.startMs);
  }

  get endTime(): HrTime {
    return toHrTime(this.endMs);
  }

  get duration(): HrTime {
    return toHrTime(this.endMs - this.startMs);
  }
}
