// The tracer behind `trace.getTracer()`: sampling and routing by context,
// the Span API's rules on RecordedSpan, its ReadableSpan view, and the ids.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import { newSpanId, newTraceId } from "./ids.js";
import type { RecordedSpan } from "./recorded-span.js";
import { installTracing, withSink, type SpanSink } from "./runtime.js";
import { toStoredSpan } from "./span-record.js";

assert.equal(installTracing(), true);
const tracer = trace.getTracer("stratum");

function sink(sample = true): SpanSink & { ended: RecordedSpan[]; asked: string[] } {
  const ended: RecordedSpan[] = [];
  const asked: string[] = [];
  return {
    ended,
    asked,
    sampleRoot: (id) => (asked.push(id), sample),
    onEnd: (s) => ended.push(s),
  };
}

test("a root span under a sink is recorded, its children share the trace and go to the same sink", () => {
  const s = sink();
  const root = tracer.startSpan("gateway.request", { kind: SpanKind.SERVER, attributes: { "stratum.tenant": "acme" } }, withSink(s, ROOT_CONTEXT));
  assert.equal(root.isRecording(), true);
  const ctx = trace.setSpan(withSink(s, ROOT_CONTEXT), root);
  const child = tracer.startSpan("model.call", {}, ctx);
  assert.equal(child.spanContext().traceId, root.spanContext().traceId);
  assert.notEqual(child.spanContext().spanId, root.spanContext().spanId);
  child.end();
  root.end();
  assert.deepEqual(s.ended.map((x) => x.name), ["model.call", "gateway.request"]);
  assert.equal(s.ended[0]!.parentSpanContext?.spanId, root.spanContext().spanId);
  assert.equal(s.ended[1]!.parentSpanContext, undefined);
  assert.equal(s.ended[1]!.kind, SpanKind.SERVER);
  assert.equal(s.asked.length, 1, "only the root asks the sampler");
});

test("unsampled roots and spans without a sink record nothing, and their children stay unsampled", () => {
  const s = sink(false);
  const root = tracer.startSpan("gateway.request", {}, withSink(s, ROOT_CONTEXT));
  assert.equal(root.isRecording(), false);
  assert.equal(root.spanContext().traceFlags & TraceFlags.SAMPLED, 0);
  const child = tracer.startSpan("model.call", {}, trace.setSpan(withSink(s, ROOT_CONTEXT), root));
  assert.equal(child.isRecording(), false);
  child.end();
  root.end();
  assert.equal(s.ended.length, 0);
  const orphan = tracer.startSpan("x", {}, ROOT_CONTEXT);
  assert.equal(orphan.isRecording(), false);
  assert.ok(trace.isSpanContextValid(orphan.spanContext()), "an unrecorded span still has a valid context");
});

test("the Span API's rules: invalid attributes dropped, OK status final, nothing changes after end", () => {
  const s = sink();
  const span = tracer.startSpan("s", { attributes: { a: 1, bad: { nested: true } as never, gone: undefined } }, withSink(s, ROOT_CONTEXT));
  span.setAttribute("list", ["x", "y"]);
  span.setAttributes({ b: "two", c: false });
  span.setStatus({ code: SpanStatusCode.UNSET });
  span.setStatus({ code: SpanStatusCode.OK, message: "ignored without ERROR" });
  span.setStatus({ code: SpanStatusCode.ERROR, message: "too late: OK is final" });
  span.addEvent("guardrail", { "stratum.guardrail": "pii", obj: {} as never });
  span.recordException(new TypeError("boom"));
  span.updateName("renamed");
  span.end();
  span.setAttribute("after", 1);
  span.addEvent("after");
  span.end();
  assert.equal(s.ended.length, 1, "end is idempotent");
  const r = s.ended[0]!;
  assert.equal(r.name, "renamed");
  assert.deepEqual(r.attributes, { a: 1, list: ["x", "y"], b: "two", c: false });
  assert.equal(r.droppedAttributesCount, 1);
  assert.deepEqual(r.status, { code: SpanStatusCode.OK });
  assert.deepEqual(r.events.map((e) => e.name), ["guardrail", "exception"]);
  assert.deepEqual(r.events[0]!.attributes, { "stratum.guardrail": "pii" });
  assert.equal(r.events[1]!.attributes?.["exception.type"], "TypeError");
  assert.equal(r.events[1]!.attributes?.["exception.message"], "boom");
  assert.equal(r.isRecording(), false);
});

test("times: explicit start and end, the HrTime views an exporter reads, and the stored span in ms", () => {
  const s = sink();
  const span = tracer.startSpan("timed", { startTime: 1_700_000_000_123.5 }, withSink(s, ROOT_CONTEXT));
  span.setStatus({ code: SpanStatusCode.ERROR, message: "upstream 500" });
  span.end(1_700_000_000_125.75);
  const r = s.ended[0]!;
  assert.deepEqual(r.startTime, [1_700_000_000, 123_500_000]);
  assert.deepEqual(r.endTime, [1_700_000_000, 125_750_000]);
  assert.deepEqual(r.duration, [0, 2_250_000]);
  const stored = toStoredSpan(r);
  assert.equal(stored.startMs, 1_700_000_000_123.5);
  assert.equal(stored.endMs, 1_700_000_000_125.75);
  assert.equal(stored.status, "error");
  assert.equal(stored.statusMessage, "upstream 500");
  // An end before the start is clamped (a clock step must not make a negative duration).
  const back = tracer.startSpan("back", { startTime: 2_000 }, withSink(s, ROOT_CONTEXT));
  back.end(1_000);
  assert.equal(s.ended[1]!.endMs, 2_000);
});

test("ids: trace ids lead with the epoch second, then random bits; span ids are 16 hex digits", () => {
  const at = Date.UTC(2026, 11, 4, 12, 0, 0);
  const id = newTraceId(at);
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(parseInt(id.slice(0, 8), 16), at / 1000);
  const ids = new Set(Array.from({ length: 10_000 }, () => newTraceId(at)));
  assert.equal(ids.size, 10_000, "the random part differs within one second");
  assert.ok(newTraceId(at + 1000) > newTraceId(at), "later seconds sort after earlier ones");
  const spans = new Set(Array.from({ length: 10_000 }, () => newSpanId()));
  assert.equal(spans.size, 10_000);
  for (const x of spans) assert.match(x, /^[0-9a-f]{16}$/);
});
