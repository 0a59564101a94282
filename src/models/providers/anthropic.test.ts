import { test, after } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import { AnthropicProviderSchema } from "../../config/schema.js";
import type { BufferedAsyncIterator } from "../../core/buffered-iterator.js";
import { StratumError, type ErrorKind } from "../../core/errors.js";
import type { ChatCompletionChunk, ChatRequest } from "../../protocol/openai.js";
import { sseEvent } from "../../protocol/sse.js";
import { signalCallContext, type CallContext, type ChatProvider } from "../provider.js";
import { eventually } from "../../testing/harness.js";
import { ScriptedUpstreams, type Handler } from "../../testing/scripted-upstream.js";
import { createAnthropicProvider } from "./anthropic.js";

// ------------------------------------------------------------------ fixtures

const upstreams = new ScriptedUpstreams();
const providers: ChatProvider[] = [];
after(async () => {
  upstreams.closeAll();
  await Promise.all(providers.map((p) => p.close?.()));
});

async function serve(handler: Handler) {
  const u = await upstreams.serve(handler);
  return { base: u.origin, port: u.port, seen: u.seen, state: u.state };
}

process.env.STRATUM_TEST_ANTHROPIC_KEY = "sk-ant-test";

function provider(base: string, extra: Record<string, unknown> = {}): ChatProvider {
  const cfg = AnthropicProviderSchema.parse({ type: "anthropic", baseUrl: base, apiKey: { env: "STRATUM_TEST_ANTHROPIC_KEY" }, defaultMaxTokens: 333, ...extra });
  const p = createAnthropicProvider("test-anthropic", cfg);
  providers.push(p);
  return p;
}

function ctx(signal: AbortSignal = AbortSignal.timeout(5_000)): CallContext {
  return signalCallContext(signal, 1_000, "req-7");
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function isKind(kind: ErrorKind, check: (e: StratumError) => boolean = () => true) {
  return (e: unknown) => {
    assert.ok(e instanceof StratumError, `expected StratumError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return check(e);
  };
}

const REQ: ChatRequest = {
  model: "claude-x",
  temperature: 0.3,
  tools: [{ type: "function", function: { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Weather in Paris?" },
    { role: "assistant", content: null, tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }] },
    { role: "tool", tool_call_id: "toolu_1", content: "18C" },
    { role: "user", content: "Thanks. Anything else?" },
  ],
};

const MESSAGE = {
  id: "msg_01",
  type: "message",
  role: "assistant",
  model: "claude-x-20250101",
  content: [{ type: "text", text: "It is 18C." }],
  stop_reason: "end_turn",
  stop_sequence: null,
  usage: { input_tokens: 40, output_tokens: 6 },
};

// What api.anthropic.com sends, CRLF line endings included to exercise the parser.
const ANTHROPIC_SSE = [
  sseEvent("message_start", { type: "message_start", message: { ...MESSAGE, content: [], stop_reason: null, usage: { input_tokens: 40, output_tokens: 1 } } }),
  sseEvent("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
  sseEvent("ping", { type: "ping" }),
  sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Checking the " } }),
  sseEvent("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "wéather ☀" } }),
  sseEvent("content_block_stop", { type: "content_block_stop", index: 0 }),
  sseEvent("content_block_start", { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_2", name: "get_weather", input: {} } }),
  sseEvent("content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: '{"city": "Ly' } }),
  sseEvent("content_block_delta", { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: 'on"}' } }),
  sseEvent("content_block_stop", { type: "content_block_stop", index: 1 }),
  sseEvent("message_delta", { type: "message_delta", delta: { stop_reason: "tool_use", stop_sequence: null }, usage: { output_tokens: 17 } }),
  sseEvent("message_stop", { type: "message_stop" }),
]
  .join("")
  .replace(/\n/g, "\r\n");

async function writeSplit(res: http.ServerResponse, text: string, size: number) {
  const buf = Buffer.from(text, "utf8");
  for (let i = 0; i < buf.length; i += size) {
    res.write(buf.subarray(i, i + size));
    await new Promise<void>((r) => setImmediate(r));
  }
}

async function collect(it: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

// ------------------------------------------------------------------ tests

test("chat: sends a Messages API request (headers and body shape) and translates the reply", async () => {
  const up = await serve((_req, res) => json(res, 200, MESSAGE));
  const out = await provider(up.base).chat({ ...REQ, stratum: { x: 1 } } as ChatRequest, ctx());
  const r = up.seen[0]!;
  assert.equal(r.method, "POST");
  assert.equal(r.url, "/v1/messages");
  assert.equal(r.headers["x-api-key"], "sk-ant-test");
  assert.equal(r.headers["anthropic-version"], "2023-06-01");
  assert.equal(r.headers["x-request-id"], "req-7");
  assert.equal(r.headers.authorization, undefined);
  assert.deepEqual(JSON.parse(r.body), {
    model: "claude-x",
    max_tokens: 333,
    system: "Be brief.",
    temperature: 0.3,
    tools: [{ name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } }],
    messages: [
      { role: "user", content: [{ type: "text", text: "Weather in Paris?" }] },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Paris" } }] },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_1", content: "18C" },
          { type: "text", text: "Thanks. Anything else?" },
        ],
      },
    ],
  });
  assert.equal(out.object, "chat.completion");
  assert.equal(out.id, "msg_01");
  assert.equal(out.model, "claude-x-20250101");
  assert.deepEqual(out.choices[0]!.message, { role: "assistant", content: "It is 18C." });
  assert.equal(out.choices[0]!.finish_reason, "stop");
  assert.deepEqual(out.usage, { prompt_tokens: 40, completion_tokens: 6, total_tokens: 46 });
});

test("chat: a baseUrl ending in /v1 is not doubled; invalid tool arguments fail before any request", async () => {
  const up = await serve((_req, res) => json(res, 200, MESSAGE));
  const p = provider(`${up.base}/v1/`);
  await p.chat({ model: "claude-x", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }, ctx());
  assert.equal(up.seen[0]!.url, "/v1/messages");
  assert.equal(JSON.parse(up.seen[0]!.body).max_tokens, 5);
  const bad: ChatRequest = {
    model: "claude-x",
    messages: [
      { role: "user", content: "x" },
      { role: "assistant", content: null, tool_calls: [{ id: "t", type: "function", function: { name: "f", arguments: "{oops" } }] },
    ],
  };
  await assert.rejects(p.chat(bad, ctx()), isKind("InvalidRequest"));
  assert.equal(up.seen.length, 1);
});

test("chat: Anthropic error bodies -> 529 retryable, 400 not, 429 with retry-after; garbage is UpstreamProtocol", async () => {
  const replies: Array<(res: http.ServerResponse) => void> = [
    (res) => json(res, 529, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }),
    (res) => json(res, 400, { type: "error", error: { type: "invalid_request_error", message: "messages: roles must alternate" } }),
    (res) => json(res, 429, { type: "error", error: { type: "rate_limit_error", message: "slow" } }, { "retry-after": "3" }),
    (res) => json(res, 200, { nope: true }),
  ];
  let i = 0;
  const up = await serve((_req, res) => replies[i++]!(res));
  const p = provider(up.base);
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamError", (e) => e.retryable && e.upstreamStatus === 529 && e.message.includes("Overloaded")));
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamError", (e) => !e.retryable && e.message.includes("roles must alternate") && e.code === "invalid_request_error"));
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamRateLimited", (e) => e.retryAfterMs === 3000));
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamProtocol"));
});

test("stream: decodes Anthropic SSE (split at awkward byte boundaries, CRLF) into OpenAI chunks", async () => {
  const up = await serve(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    await writeSplit(res, ANTHROPIC_SSE, 5);
    res.end();
  });
  const chunks = await collect(await provider(up.base).stream({ ...REQ, stream: true, max_tokens: 50 }, ctx()));
  const body = JSON.parse(up.seen[0]!.body) as Record<string, unknown>;
  assert.equal(body.stream, true);
  assert.equal(body.max_tokens, 50);
  assert.equal(up.seen[0]!.headers.accept, "text/event-stream");

  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: "assistant", content: "" });
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Checking the wéather ☀");
  const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(toolDeltas[0], { index: 0, id: "toolu_2", type: "function", function: { name: "get_weather", arguments: "" } });
  assert.equal(toolDeltas.map((t) => t.function?.arguments ?? "").join(""), '{"city": "Lyon"}');
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, "tool_calls");
  assert.deepEqual(chunks.at(-1)!.choices, []);
  assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 40, completion_tokens: 17, total_tokens: 57 });
  assert.ok(chunks.every((c) => c.id === "chatcmpl-req-7" && c.model === "claude-x"));
});

test("stream: an error event mid-stream is thrown as a retryable overloaded UpstreamError", async () => {
  const up = await serve((_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(ANTHROPIC_SSE.split("event: content_block_delta")[0]!);
    res.end(sseEvent("error", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }));
  });
  await assert.rejects(collect(await provider(up.base).stream(REQ, ctx())), isKind("UpstreamError", (e) => e.upstreamStatus === 529 && e.retryable));
});

test("stream: non-2xx rejects stream(); breaking out early releases the only connection", async () => {
  let mode = 0;
  const up = await serve((_req, res) => {
    const m = mode++;
    if (m === 0) return json(res, 401, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } });
    if (m === 2) return json(res, 200, MESSAGE);
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(ANTHROPIC_SSE.split("event: content_block_stop")[0]!);
    const timer = setInterval(() => res.write(sseEvent("ping", { type: "ping" })), 5);
    res.on("close", () => clearInterval(timer));
  });
  const p = provider(up.base, { maxConnections: 1 });
  await assert.rejects(p.stream(REQ, ctx()), isKind("UpstreamError", (e) => e.upstreamStatus === 401 && !e.retryable && e.message.includes("invalid x-api-key")));
  let n = 0;
  for await (const _ of await p.stream(REQ, ctx())) if (++n === 2) break;
  const out = await p.chat(REQ, ctx(AbortSignal.timeout(2_000)));
  assert.equal(out.choices[0]!.message.content, "It is 18C.");
});

test("stream: events already received come from nextBuffered() without waiting; message_stop reached that way still keeps the connection", async () => {
  let streams = 0;
  const up = await serve((req, res) => {
    if (!JSON.parse(req.body).stream) return json(res, 200, MESSAGE);
    res.writeHead(200, { "content-type": "text/event-stream" });
    // The whole answer in one write (the second time, cut off before message_delta).
    res.end(streams++ === 0 ? ANTHROPIC_SSE : ANTHROPIC_SSE.split("event: message_delta")[0]);
  });
  const p = provider(up.base, { maxConnections: 1 });
  const it = (await p.stream(REQ, ctx()))[Symbol.asyncIterator]() as AsyncIterator<ChatCompletionChunk> & BufferedAsyncIterator<ChatCompletionChunk>;
  const got = [(await it.next()).value as ChatCompletionChunk];
  await eventually(() => {
    for (let r = it.nextBuffered(); r && !r.done; r = it.nextBuffered()) got.push(r.value);
    return got.at(-1)?.usage !== undefined;
  });
  assert.equal(got.map((c) => c.choices[0]?.delta.content ?? "").join(""), "Checking the wéather ☀");
  assert.equal(got.at(-2)!.choices[0]!.finish_reason, "tool_calls");
  assert.equal(it.nextBuffered(), undefined, "the end is left to next(), which stops reading the body");
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  await p.chat(REQ, ctx());
  assert.equal(up.state.connections, 1);

  // Cut off before message_stop: the truncation is thrown from nextBuffered() as next() would reject.
  const cut = (await p.stream(REQ, ctx()))[Symbol.asyncIterator]() as AsyncIterator<ChatCompletionChunk> & BufferedAsyncIterator<ChatCompletionChunk>;
  await cut.next();
  let thrown: unknown;
  await eventually(() => {
    try {
      for (let r = cut.nextBuffered(); r && !r.done; r = cut.nextBuffered());
    } catch (e) {
      thrown = e;
    }
    return thrown !== undefined;
  });
  assert.ok(isKind("UpstreamProtocol", (e) => e.message.includes("message_stop"))(thrown));
});
