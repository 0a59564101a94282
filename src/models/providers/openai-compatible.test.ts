import { test, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { OpenAIProviderSchema } from "../../config/schema.js";
import type { BufferedAsyncIterator } from "../../core/buffered-iterator.js";
import { StratumError, type ErrorKind } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "../../protocol/openai.js";
import { sseData, SSE_DONE } from "../../protocol/sse.js";
import { signalCallContext, type CallContext, type ChatProvider } from "../provider.js";
import { eventually } from "../../testing/harness.js";
import { ScriptedUpstreams, type Handler } from "../../testing/scripted-upstream.js";
import { createOpenAIProvider } from "./openai-compatible.js";
import { errors as undiciErrors } from "undici";
import { extractUpstreamMessage, networkError, retryAfterFromHeaders, upstreamHttpError } from "./http-errors.js";

// ------------------------------------------------------------------ fixtures

const upstreams = new ScriptedUpstreams();
const providers: ChatProvider[] = [];
after(async () => {
  upstreams.closeAll();
  await Promise.all(providers.map((p) => p.close?.()));
});

async function serve(handler: Handler) {
  const u = await upstreams.serve(handler);
  return { base: `${u.origin}/v1`, port: u.port, seen: u.seen, state: u.state };
}

process.env.STRATUM_TEST_OPENAI_KEY = "sk-test-123";

function provider(base: string, extra: Record<string, unknown> = {}): ChatProvider {
  const cfg = OpenAIProviderSchema.parse({ type: "openai", baseUrl: base, apiKey: "${STRATUM_TEST_OPENAI_KEY}", headers: { "X-Custom": "yes" }, ...extra });
  const p = createOpenAIProvider("test-openai", cfg);
  providers.push(p);
  return p;
}

function ctx(signal: AbortSignal = AbortSignal.timeout(5_000)): CallContext {
  return signalCallContext(signal, 1_000, "req-42");
}

const REQ: ChatRequest = { model: "gpt-x", messages: [{ role: "user", content: "hello" }] };

const COMPLETION: ChatCompletion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1,
  model: "gpt-x",
  choices: [{ index: 0, message: { role: "assistant", content: "hi there" }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
};

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

function chunk(delta: ChatCompletionChunk["choices"][number]["delta"], finish: ChatCompletionChunk["choices"][number]["finish_reason"] = null): ChatCompletionChunk {
  return { id: "chatcmpl-2", object: "chat.completion.chunk", created: 1, model: "gpt-x", choices: [{ index: 0, delta, finish_reason: finish }] };
}

const STREAM_TEXT =
  sseData(chunk({ role: "assistant", content: "" })) +
  ": comment line\n\n" +
  sseData(chunk({ content: "Grüße, " })) +
  sseData(chunk({ content: "世界 🎉" })) +
  sseData(chunk({}, "stop")) +
  sseData({ id: "chatcmpl-2", object: "chat.completion.chunk", created: 1, model: "gpt-x", choices: [], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } }) +
  SSE_DONE;

const tick = () => new Promise<void>((r) => setImmediate(r));

/** Write in `size`-byte pieces (splitting lines, CRLFs and UTF-8 sequences), yielding between writes. */
async function writeSplit(res: http.ServerResponse, text: string, size: number) {
  const buf = Buffer.from(text, "utf8");
  for (let i = 0; i < buf.length; i += size) {
    res.write(buf.subarray(i, i + size));
    await tick();
  }
}

function sseHead(res: http.ServerResponse) {
  res.writeHead(200, { "content-type": "text/event-stream" });
}

async function collect(it: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

function textOf(chunks: ChatCompletionChunk[]): string {
  return chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
}

function isKind(kind: ErrorKind, check: (e: StratumError) => boolean = () => true) {
  return (e: unknown) => {
    assert.ok(e instanceof StratumError, `expected StratumError, got ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    return check(e);
  };
}

// ------------------------------------------------------------------ chat

test("chat: POSTs to the base path with auth, configured headers and request id; never forwards `stratum`", async () => {
  const up = await serve((_req, res) => json(res, 200, COMPLETION));
  const p = provider(up.base);
  const out = await p.chat({ ...REQ, stratum: { route: "x" } } as ChatRequest, ctx());
  assert.deepEqual(out, COMPLETION);
  const r = up.seen[0]!;
  assert.equal(r.method, "POST");
  assert.equal(r.url, "/v1/chat/completions");
  assert.equal(r.headers.authorization, "Bearer sk-test-123");
  assert.equal(r.headers["x-custom"], "yes");
  assert.equal(r.headers["x-request-id"], "req-42");
  assert.equal(r.headers["content-type"], "application/json");
  const body = JSON.parse(r.body) as Record<string, unknown>;
  assert.equal("stratum" in body, false);
  assert.deepEqual(body.messages, REQ.messages);
  assert.equal(body.model, "gpt-x");
});

test("chat: missing usage is estimated; garbage or mis-shaped 2xx bodies are UpstreamProtocol", async () => {
  let mode = 0;
  const up = await serve((_req, res) => {
    const m = mode++;
    if (m === 0) json(res, 200, { ...COMPLETION, usage: undefined });
    else if (m === 1) json(res, 200, "<html>oops</html>");
    else json(res, 200, { hello: "world" });
  });
  const p = provider(up.base);
  const est = await p.chat(REQ, ctx());
  assert.ok(est.usage.prompt_tokens > 0 && est.usage.completion_tokens > 0);
  assert.equal(est.usage.total_tokens, est.usage.prompt_tokens + est.usage.completion_tokens);
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamProtocol"));
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamProtocol"));
});

test("chat: 429 with Retry-After -> UpstreamRateLimited with retryAfterMs", async () => {
  const up = await serve((_req, res) => json(res, 429, { error: { message: "Rate limit reached", code: "rate_limit_exceeded" } }, { "retry-after": "2" }));
  await assert.rejects(
    provider(up.base).chat(REQ, ctx()),
    isKind("UpstreamRateLimited", (e) => e.retryable && e.retryAfterMs === 2000 && e.upstreamStatus === 429 && e.code === "rate_limit_exceeded"),
  );
});

test("chat: 500 -> retryable UpstreamError; 400 -> non-retryable with the upstream's message", async () => {
  let status = 500;
  const up = await serve((_req, res) =>
    status === 500
      ? json(res, 500, "internal kaboom")
      : json(res, 400, { error: { message: "Invalid 'messages[0].role': 'robot'", type: "invalid_request_error", param: "messages", code: "invalid_value" } }),
  );
  const p = provider(up.base);
  await assert.rejects(p.chat(REQ, ctx()), isKind("UpstreamError", (e) => e.retryable && e.upstreamStatus === 500 && e.message.includes("internal kaboom")));
  status = 400;
  await assert.rejects(
    p.chat(REQ, ctx()),
    isKind("UpstreamError", (e) => !e.retryable && e.upstreamStatus === 400 && e.message.includes("Invalid 'messages[0].role'") && e.code === "invalid_value"),
  );
});

test("chat: a server that accepts and hangs -> abort via signal -> UpstreamTimeout", async () => {
  const up = await serve(() => {
    /* never answers */
  });
  const p = provider(up.base);
  const t0 = Date.now();
  await assert.rejects(p.chat(REQ, ctx(AbortSignal.timeout(150))), isKind("UpstreamTimeout"));
  assert.ok(Date.now() - t0 < 2_000);
  // The router aborts with its own StratumError as the reason: passed through as is.
  const c = new AbortController();
  const reason = new StratumError("UpstreamTimeout", "no first token within 100 ms");
  setTimeout(() => c.abort(reason), 50);
  await assert.rejects(p.chat(REQ, ctx(c.signal)), (e: unknown) => e === reason);
});

test("chat: an endless error body is read only as far as the message needs, then the connection is dropped", async () => {
  let closed = false;
  const up = await serve((_req, res) => {
    res.writeHead(500, { "content-type": "application/json" });
    res.write('{"error":{"message":"overloaded","padding":"');
    const more = () => {
      if (res.destroyed) return;
      if (res.write("x".repeat(16 * 1024))) setImmediate(more);
      else res.once("drain", more);
    };
    res.on("close", () => (closed = true));
    more();
  });
  const t0 = Date.now();
  await assert.rejects(provider(up.base).chat(REQ, ctx()), isKind("UpstreamError", (e) => e.upstreamStatus === 500 && e.retryable && e.message.includes("upstream test-openai returned 500")));
  assert.ok(Date.now() - t0 < 2_000, "did not wait for the body to end");
  await eventually(() => closed, 2_000, "the upstream saw the connection close");
});

test("chat: an abort while the call waits in the pool's queue rejects at once, and the pool keeps working", async () => {
  const waiting: http.ServerResponse[] = [];
  const up = await serve((_req, res) => {
    waiting.push(res); // answered by the test, below
  });
  const p = provider(up.base, { maxConnections: 1 });
  const first = p.chat(REQ, ctx());
  await eventually(() => waiting.length === 1, 2_000, "the first call reached the upstream");
  const c = new AbortController();
  const queued = p.chat(REQ, ctx(c.signal));
  const reason = new StratumError("UpstreamTimeout", "total timeout");
  const t0 = Date.now();
  c.abort(reason);
  await assert.rejects(queued, (e: unknown) => e === reason);
  assert.ok(Date.now() - t0 < 500);
  json(waiting[0]!, 200, COMPLETION);
  assert.equal((await first).choices[0]?.message.content, "hi there");
  // The aborted call never reaches the upstream (undici drops it as it would start, which
  // costs that socket); the next call gets through.
  const third = p.chat(REQ, ctx());
  await eventually(() => waiting.length === 2, 2_000, "the next call reached the upstream");
  json(waiting[1]!, 200, COMPLETION);
  assert.equal((await third).id, "chatcmpl-1");
  assert.equal(up.seen.length, 2);
});

test("chat: a connection reset mid-body is a transport error; a body split in pieces parses whole", async () => {
  let n = 0;
  const up = await serve(async (_req, res) => {
    if (n++ === 0) {
      res.writeHead(200, { "content-type": "application/json", "content-length": "500" });
      res.write('{"id":"chatcmpl-1",');
      setTimeout(() => res.socket?.destroy(), 20);
    } else {
      res.writeHead(200, { "content-type": "application/json" });
      await writeSplit(res, JSON.stringify({ ...COMPLETION, choices: [{ ...COMPLETION.choices[0], message: { role: "assistant", content: "Grüße 世界 🎉" } }] }), 5);
      res.end();
    }
  });
  const p = provider(up.base);
  await assert.rejects(p.chat(REQ, ctx()), (e: unknown) => e instanceof StratumError && ["UpstreamUnreachable", "UpstreamProtocol"].includes(e.kind));
  assert.equal((await p.chat(REQ, ctx())).choices[0]?.message.content, "Grüße 世界 🎉");
});

test("chat: connection refused -> UpstreamUnreachable", async () => {
  const tmp = http.createServer();
  await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", r));
  const port = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  await assert.rejects(provider(`http://127.0.0.1:${port}/v1`).chat(REQ, ctx()), isKind("UpstreamUnreachable", (e) => e.retryable && e.cause !== undefined));
});

test("embed: POSTs to /embeddings and validates the list", async () => {
  const emb = { object: "list", data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }], model: "e", usage: { prompt_tokens: 1, total_tokens: 1 } };
  const up = await serve((req, res) => (req.url === "/v1/embeddings" ? json(res, 200, emb) : json(res, 404, { error: { message: "nope" } })));
  assert.deepEqual(await provider(up.base).embed!({ model: "e", input: "x" }, ctx()), emb);
});

// ------------------------------------------------------------------ stream

test("stream: always asks for usage, parses SSE split at awkward byte boundaries", async () => {
  const up = await serve(async (_req, res) => {
    sseHead(res);
    await writeSplit(res, STREAM_TEXT, 7);
    res.end();
  });
  const p = provider(up.base);
  const chunks = await collect(await p.stream({ ...REQ, stream: true, stratum: {} } as ChatRequest, ctx()));
  const body = JSON.parse(up.seen[0]!.body) as Record<string, unknown>;
  assert.equal(body.stream, true);
  assert.deepEqual(body.stream_options, { include_usage: true });
  assert.equal("stratum" in body, false);
  assert.equal(up.seen[0]!.headers.accept, "text/event-stream");
  assert.equal(textOf(chunks), "Grüße, 世界 🎉");
  assert.equal(chunks.length, 5);
  assert.equal(chunks[3]!.choices[0]!.finish_reason, "stop");
  assert.deepEqual(chunks[4]!.usage, { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 });
});

test("stream: non-2xx rejects stream() itself (so the router can fail over)", async () => {
  const up = await serve((_req, res) => json(res, 503, { error: { message: "overloaded" } }, { "retry-after-ms": "250" }));
  await assert.rejects(provider(up.base).stream(REQ, ctx()), isKind("UpstreamError", (e) => e.retryable && e.upstreamStatus === 503 && e.retryAfterMs === 250));
});

test("stream: malformed JSON, oversized events and mid-stream errors are thrown from the iterator", async () => {
  let mode = 0;
  const up = await serve(async (_req, res) => {
    const m = mode++;
    sseHead(res);
    res.write(sseData(chunk({ role: "assistant", content: "" })));
    if (m === 0) res.write('data: {"id": "x", "choices": [\n\n');
    else if (m === 1) await writeSplit(res, `data: "${"x".repeat((1 << 20) + 100)}"\n\n`, 64 * 1024);
    else res.write(sseData({ error: { message: "model crashed", type: "server_error" } }));
    res.end();
  });
  const p = provider(up.base);
  await assert.rejects(collect(await p.stream(REQ, ctx())), isKind("UpstreamProtocol", (e) => e.message.includes("malformed")));
  await assert.rejects(collect(await p.stream(REQ, ctx())), isKind("UpstreamProtocol", (e) => e.message.includes("exceeds")));
  await assert.rejects(collect(await p.stream(REQ, ctx())), isKind("UpstreamError", (e) => e.message.includes("model crashed")));
});

test("stream: a stream cut before completion is UpstreamProtocol; a finished one without [DONE] is fine", async () => {
  let mode = 0;
  const up = await serve((_req, res) => {
    const m = mode++;
    sseHead(res);
    res.write(sseData(chunk({ content: "partial" })));
    if (m === 1) res.write(sseData(chunk({}, "stop")));
    res.end();
  });
  const p = provider(up.base);
  await assert.rejects(collect(await p.stream(REQ, ctx())), isKind("UpstreamProtocol"));
  assert.equal(textOf(await collect(await p.stream(REQ, ctx()))), "partial");
});

test("stream: upstream hangs mid-body -> abort via signal -> UpstreamTimeout from the iterator", async () => {
  const up = await serve((_req, res) => {
    sseHead(res);
    res.write(sseData(chunk({ content: "first" })));
  });
  const it = (await provider(up.base).stream(REQ, ctx(AbortSignal.timeout(300))))[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.choices[0]?.delta.content, "first");
  await assert.rejects(it.next(), isKind("UpstreamTimeout"));
});

function endless(res: http.ServerResponse) {
  sseHead(res);
  const timer = setInterval(() => res.write(sseData(chunk({ content: "x" }))), 5);
  res.on("close", () => clearInterval(timer));
}

test("stream: breaking out early releases the connection (maxConnections: 1)", async () => {
  let closed = 0;
  const up = await serve((req, res) => {
    res.on("close", () => closed++);
    if (JSON.parse(req.body).stream) endless(res);
    else json(res, 200, COMPLETION);
  });
  const p = provider(up.base, { maxConnections: 1 });
  let n = 0;
  for await (const _ of await p.stream(REQ, ctx())) if (++n === 3) break;
  // With the only connection leaked, this would queue until the signal fires.
  assert.deepEqual(await p.chat(REQ, ctx(AbortSignal.timeout(2_000))), COMPLETION);
  assert.equal(closed >= 1, true);
});

test("stream: return() while a next() is pending (the router's abandon path) releases the connection", async () => {
  const up = await serve((req, res) => {
    if (!JSON.parse(req.body).stream) return json(res, 200, COMPLETION);
    sseHead(res);
    res.write(sseData(chunk({ content: "one" })));
  });
  const p = provider(up.base, { maxConnections: 1 });
  const c = new AbortController(); // never fires unless the release is stuck
  const it = (await p.stream(REQ, ctx(c.signal)))[Symbol.asyncIterator]();
  await it.next();
  const pending = it.next();
  const released = Promise.allSettled([it.return!(), pending]).then(() => "released");
  const outcome = await Promise.race([released, new Promise((r) => setTimeout(r, 1_000, "stuck"))]);
  c.abort();
  assert.equal(outcome, "released");
  assert.deepEqual(await p.chat(REQ, ctx(AbortSignal.timeout(2_000))), COMPLETION);
});

test("stream: a clean end keeps the keep-alive connection for the next request", async () => {
  const up = await serve(async (req, res) => {
    if (!JSON.parse(req.body).stream) return json(res, 200, COMPLETION);
    sseHead(res);
    await writeSplit(res, STREAM_TEXT, 50);
    res.end();
  });
  const p = provider(up.base, { maxConnections: 1 });
  for (let i = 0; i < 3; i++) {
    // Stop consuming as soon as the decoder reaches [DONE] (for-await ends there).
    assert.equal(textOf(await collect(await p.stream(REQ, ctx()))), "Grüße, 世界 🎉");
  }
  await p.chat(REQ, ctx());
  assert.equal(up.state.connections, 1);
});

test("stream: events already received come from nextBuffered() without waiting; [DONE] reached that way still keeps the connection", async () => {
  let mode = 0;
  const up = await serve((req, res) => {
    if (!JSON.parse(req.body).stream) return json(res, 200, COMPLETION);
    sseHead(res);
    res.end(mode++ === 0 ? STREAM_TEXT : sseData(chunk({ content: "ok" })) + 'data: {"choices": [\n\n');
  });
  const p = provider(up.base, { maxConnections: 1 });
  const it = (await p.stream(REQ, ctx()))[Symbol.asyncIterator]() as AsyncIterator<ChatCompletionChunk> & BufferedAsyncIterator<ChatCompletionChunk>;
  const got = [(await it.next()).value as ChatCompletionChunk];
  await eventually(() => {
    // The whole body arrives in one write: everything after the first chunk is buffered.
    for (let r = it.nextBuffered(); r && !r.done; r = it.nextBuffered()) got.push(r.value);
    return got.length === 5;
  });
  assert.equal(textOf(got), "Grüße, 世界 🎉");
  assert.equal(it.nextBuffered(), undefined, "[DONE] is left to next(), which stops reading the body");
  assert.deepEqual(await it.next(), { done: true, value: undefined });
  await p.chat(REQ, ctx());
  assert.equal(up.state.connections, 1);

  // A malformed event is thrown from nextBuffered() as next() would reject.
  const bad = (await p.stream(REQ, ctx()))[Symbol.asyncIterator]() as AsyncIterator<ChatCompletionChunk> & BufferedAsyncIterator<ChatCompletionChunk>;
  assert.equal(textOf([(await bad.next()).value as ChatCompletionChunk]), "ok");
  let thrown: unknown;
  await eventually(() => {
    try {
      bad.nextBuffered();
    } catch (e) {
      thrown = e;
    }
    return thrown !== undefined;
  });
  assert.ok(isKind("UpstreamProtocol", (e) => e.message.includes("malformed"))(thrown));
});

// ------------------------------------------------------------------ http-errors (shared mapping)

test("http-errors: transport failures map to Timeout / Unreachable / Protocol kinds with the cause kept", () => {
  const cases: Array<[unknown, ErrorKind]> = [
    [new undiciErrors.ConnectTimeoutError(), "UpstreamTimeout"],
    [new undiciErrors.HeadersTimeoutError(), "UpstreamTimeout"],
    [new undiciErrors.BodyTimeoutError(), "UpstreamTimeout"],
    [new DOMException("signal timed out", "TimeoutError"), "UpstreamTimeout"],
    [new undiciErrors.SocketError("other side closed"), "UpstreamUnreachable"],
    [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "UpstreamUnreachable"],
    [Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), "UpstreamUnreachable"],
    [new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]), "UpstreamUnreachable"],
    [new undiciErrors.ResponseContentLengthMismatchError(), "UpstreamProtocol"],
    [new TypeError("a bug"), "Internal"],
  ];
  for (const [err, kind] of cases) {
    const e = networkError(err, "d1");
    assert.equal(e.kind, kind, String(err));
    assert.equal(e.cause, err);
  }
  const aborted = networkError(new DOMException("aborted", "AbortError"));
  assert.equal(aborted.kind, "UpstreamTimeout");
  assert.equal(aborted.retryable, false);
  const own = new StratumError("UpstreamTimeout", "mine");
  assert.equal(networkError(own), own);
});

test("http-errors: Retry-After variants and message extraction", () => {
  assert.equal(retryAfterFromHeaders({ "retry-after-ms": "1500", "retry-after": "9" }), 1500);
  assert.equal(retryAfterFromHeaders({ "retry-after": "9" }), 9000);
  assert.equal(retryAfterFromHeaders({ "retry-after": new Date(10_000 + 4_000).toUTCString() }, 10_000), 4000);
  // Only the exhausted bucket's reset counts.
  assert.equal(retryAfterFromHeaders({ "x-ratelimit-reset-requests": "1s", "x-ratelimit-reset-tokens": "6m0s", "x-ratelimit-remaining-tokens": "0" }), 360_000);
  assert.equal(retryAfterFromHeaders({ "x-ratelimit-reset-requests": "1.5s", "x-ratelimit-reset-tokens": "20ms" }), 20);
  assert.equal(retryAfterFromHeaders({}), undefined);
  assert.deepEqual(extractUpstreamMessage('{"error":"model not found"}'), { message: "model not found" });
  assert.deepEqual(extractUpstreamMessage('{"object":"error","message":"too long"}'), { message: "too long" });
  assert.deepEqual(extractUpstreamMessage('{"type":"error","error":{"type":"api_error","message":"boom"}}'), { message: "boom", code: "api_error" });
  assert.ok(extractUpstreamMessage("x".repeat(5_000)).message.length <= 501);
  const e = upstreamHttpError(408, {}, "", "d");
  assert.equal(e.kind, "UpstreamError");
  assert.equal(e.retryable, true);
  assert.equal(upstreamHttpError(404, {}, "").retryable, false);
});
