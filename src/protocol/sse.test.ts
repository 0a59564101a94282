import { test } from "node:test";
import assert from "node:assert/strict";
import { SseDecoder, sseData, sseEvent, SSE_DONE, type SSEEvent } from "./sse.js";
import { StratumError } from "../core/errors.js";

/** Every event of a body that arrives in `chunks`, end of stream included. */
async function collect(chunks: Array<Buffer | string>, max?: number): Promise<SSEEvent[]> {
  const decoder = new SseDecoder(max);
  const out: SSEEvent[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  out.push(...decoder.finish());
  return out;
}

const SAMPLE =
  ": keep-alive comment\n" +
  "event: message_start\n" +
  'data: {"a":1}\n' +
  "\n" +
  "data: line one\r\n" +
  "data: line two\r\n" +
  "\r\n" +
  "data:no-space\r" +
  "\r" +
  "event: only-event-no-data\n\n" +
  "id: 7\nretry: 100\ndata: héllo — 世界 🎉\n\n" +
  "data\n\n" +
  SSE_DONE;

const EXPECTED: SSEEvent[] = [
  { event: "message_start", data: '{"a":1}' },
  { data: "line one\nline two" },
  { data: "no-space" },
  { data: "héllo — 世界 🎉" },
  { data: "" },
  { data: "[DONE]" },
];

test("parses fields, comments, multi-line data and all line endings", async () => {
  assert.deepEqual(await collect([SAMPLE]), EXPECTED);
});

test("same events whatever the chunk boundaries (every split point, bytes and UTF-8 included)", async () => {
  const bytes = Buffer.from(SAMPLE, "utf8");
  for (let i = 0; i <= bytes.length; i++) {
    const got = await collect([bytes.subarray(0, i), bytes.subarray(i)]);
    assert.deepEqual(got, EXPECTED, `split at byte ${i}`);
  }
  const oneByteEach: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) oneByteEach.push(bytes.subarray(i, i + 1));
  assert.deepEqual(await collect(oneByteEach), EXPECTED);
});

test("CRLF split across chunks is one line ending, not two", async () => {
  // If the LF after a chunk-final CR were taken as a second (blank) line, the
  // two data lines would become two events.
  assert.deepEqual(await collect(["data: a\r", "\ndata: b\r\n\r\n"]), [{ data: "a\nb" }]);
});

test("strips a leading BOM and dispatches an unterminated final event", async () => {
  assert.deepEqual(await collect(["\uFEFFdata: x\n\ndata: tail"]), [{ data: "x" }, { data: "tail" }]);
});

test("an oversized event is rejected with UpstreamProtocol, in one line or many", async () => {
  const big = "x".repeat(200);
  await assert.rejects(collect([`data: ${big}\n\n`], 100), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamProtocol");
  // A line that never ends, arriving in small pieces, must not buffer forever.
  const pieces = Array.from({ length: 50 }, () => "yyyyyyyyyy");
  await assert.rejects(collect(["data: ", ...pieces], 100), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamProtocol");
  // Many small data lines adding up to too much.
  const lines = Array.from({ length: 30 }, () => "data: 0123456789\n").join("");
  await assert.rejects(collect([lines + "\n"], 100), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamProtocol");
  // Just under the limit is fine, and the limit is per event.
  const ok = `data: ${"z".repeat(90)}\n\n`;
  assert.equal((await collect([ok + ok + ok], 100)).length, 3);
});

test("encoders", () => {
  assert.equal(sseData({ a: 1 }), 'data: {"a":1}\n\n');
  assert.equal(sseEvent("ping", { type: "ping" }), 'event: ping\ndata: {"type":"ping"}\n\n');
  assert.equal(SSE_DONE, "data: [DONE]\n\n");
});
