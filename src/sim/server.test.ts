import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { countTokens } from "../models/tokenizer.js";
import { embedText } from "../models/providers/sim.js";
import { startSimUpstream, type SimUpstream } from "./server.js";

let sim: SimUpstream;
let bare: SimUpstream; // noUsage
let client: OpenAI;

before(async () => {
  sim = await startSimUpstream({ outputTokens: 12, embeddingDimensions: 16, retryAfterSeconds: 3 });
  bare = await startSimUpstream({ noUsage: true });
  client = new OpenAI({ baseURL: sim.url + "/v1", apiKey: "x", maxRetries: 0 });
});
after(async () => {
  await sim.close();
  await bare.close();
});

const messages = [{ role: "user" as const, content: "Say something about gateways." }];
const post = (base: string, path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(base + path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: typeof body === "string" ? body : JSON.stringify(body), signal });

test("GET /v1/models and /healthz", async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ["sim", "sim-embedding"],
  );
  const health = await fetch(sim.url + "/healthz");
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok" });
});

test("chat completion (JSON) via the OpenAI SDK", async () => {
  const r = await client.chat.completions.create({ model: "gpt-sim", messages });
  const text = r.choices[0]!.message.content!;
  assert.equal(r.model, "gpt-sim");
  assert.equal(r.choices[0]!.finish_reason, "stop");
  assert.equal(r.usage!.completion_tokens, 12);
  assert.equal(countTokens(text), 12);
  const again = await client.chat.completions.create({ model: "gpt-sim", messages });
  assert.equal(again.choices[0]!.message.content, text, "deterministic per prompt");
  const capped = await client.chat.completions.create({ model: "gpt-sim", messages, max_tokens: 4 });
  assert.equal(capped.usage!.completion_tokens, 4);
  assert.equal(capped.choices[0]!.finish_reason, "length");
});

test("chat streaming via the OpenAI SDK, with and without include_usage", async () => {
  const full = (await client.chat.completions.create({ model: "gpt-sim", messages })).choices[0]!.message.content;
  const withUsage = await client.chat.completions.create({ model: "gpt-sim", messages, stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage: OpenAI.CompletionUsage | null | undefined;
  let finish: string | null = null;
  let first = true;
  for await (const c of withUsage) {
    if (first) {
      assert.deepEqual(c.choices[0]!.delta, { role: "assistant", content: "" });
      first = false;
    }
    text += c.choices[0]?.delta.content ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
    if (c.usage) usage = c.usage;
  }
  assert.equal(text, full);
  assert.equal(finish, "stop");
  assert.equal(usage!.completion_tokens, 12);

  const noUsage = await client.chat.completions.create({ model: "gpt-sim", messages, stream: true });
  for await (const c of noUsage) assert.equal(c.usage ?? null, null, "usage only when include_usage is set");
});

test("noUsage never sends usage", async () => {
  const c = new OpenAI({ baseURL: bare.url + "/v1", apiKey: "x", maxRetries: 0 });
  const r = await c.chat.completions.create({ model: "m", messages });
  assert.equal(r.usage, undefined);
  assert.ok(r.choices[0]!.message.content);
  const s = await c.chat.completions.create({ model: "m", messages, stream: true, stream_options: { include_usage: true } });
  let chunks = 0;
  for await (const ch of s) {
    chunks++;
    assert.equal(ch.usage ?? null, null);
  }
  assert.ok(chunks > 3);
});

test("tool calls and json_schema through the SDK", async () => {
  const r = await client.chat.completions.create({
    model: "m",
    messages,
    tools: [{ type: "function", function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } } }],
    tool_choice: "required",
  });
  const call = r.choices[0]!.message.tool_calls![0]!;
  assert.equal(r.choices[0]!.finish_reason, "tool_calls");
  assert.equal(call.type, "function");
  assert.deepEqual(call.type === "function" && JSON.parse(call.function.arguments), { q: "sim" });
  const j = await client.chat.completions.create({
    model: "m",
    messages,
    response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object", properties: { n: { type: "number" } }, required: ["n"] } } },
  });
  assert.deepEqual(JSON.parse(j.choices[0]!.message.content!), { n: 1 });
});

test("embeddings via the SDK: float and base64 agree", async () => {
  const f = await client.embeddings.create({ model: "e", input: ["hello world", "goodbye"], encoding_format: "float" });
  assert.equal(f.data.length, 2);
  assert.equal(f.data[0]!.embedding.length, 16);
  assert.deepEqual(f.data[0]!.embedding, embedText("hello world", 16));
  assert.equal(f.usage.prompt_tokens, countTokens("hello world") + countTokens("goodbye"));
  const b = await client.embeddings.create({ model: "e", input: "hello world", encoding_format: "base64" });
  const raw = b.data[0]!.embedding as unknown as string;
  assert.equal(typeof raw, "string");
  const buf = Buffer.from(raw, "base64");
  const floats = Array.from({ length: 16 }, (_, i) => buf.readFloatLE(i * 4));
  floats.forEach((x, i) => assert.ok(Math.abs(x - f.data[0]!.embedding[i]!) < 1e-6));
  // the SDK's default (base64 on the wire, decoded client-side) gives the same vector
  const d = await client.embeddings.create({ model: "e", input: "hello world" });
  d.data[0]!.embedding.forEach((x, i) => assert.ok(Math.abs(x - f.data[0]!.embedding[i]!) < 1e-6));
});

test("429 carries Retry-After; 500 has an OpenAI-shaped body", async () => {
  const rl = await post(sim.url, "/v1/chat/completions", { model: "m", messages }, { "x-sim-fail": "429" });
  assert.equal(rl.status, 429);
  assert.equal(rl.headers.get("retry-after"), "3");
  assert.equal(((await rl.json()) as { error: { code: string } }).error.code, "rate_limit_exceeded");
  const err = await post(sim.url, "/v1/chat/completions", { model: "m", messages }, { "x-sim-fail": "500" });
  assert.equal(err.status, 500);
  const body = (await err.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
  assert.equal(body.error.type, "server_error");
  // and the SDK sees them as typed API errors
  await assert.rejects(client.chat.completions.create({ model: "m", messages }, { headers: { "x-sim-fail": "429" } }), (e: unknown) => e instanceof OpenAI.RateLimitError);
});

test("bad JSON and invalid requests are 400 with OpenAI-shaped bodies", async () => {
  const before = sim.stats().badRequests;
  const bad = await post(sim.url, "/v1/chat/completions", "{not json");
  assert.equal(bad.status, 400);
  const body = (await bad.json()) as { error: { type: string; message: string } };
  assert.equal(body.error.type, "invalid_request_error");
  const noMessages = await post(sim.url, "/v1/chat/completions", { model: "m", messages: [] });
  assert.equal(noMessages.status, 400);
  assert.equal(((await noMessages.json()) as { error: { param: string } }).error.param, "messages");
  const badHeader = await post(sim.url, "/v1/chat/completions", { model: "m", messages }, { "x-sim-fail": "explode" });
  assert.equal(badHeader.status, 400);
  await badHeader.text();
  assert.equal(sim.stats().badRequests, before + 3);
  const notFound = await fetch(sim.url + "/v1/nope");
  assert.equal(notFound.status, 404);
  await notFound.text();
});

test("hang: the request is never answered, the client aborts, the server keeps serving", async () => {
  const hangsBefore = sim.stats().hangs;
  await assert.rejects(post(sim.url, "/v1/chat/completions", { model: "m", messages }, { "x-sim-fail": "hang" }, AbortSignal.timeout(200)), (e: unknown) => {
    assert.ok(e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError"), String(e));
    return true;
  });
  assert.equal(sim.stats().hangs, hangsBefore + 1);
  const ok = await client.chat.completions.create({ model: "m", messages });
  assert.ok(ok.choices[0]!.message.content);
  // the hung request is released once its connection closes
  for (let i = 0; i < 50 && sim.stats().inFlight > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(sim.stats().inFlight, 0);
});

test("midstream: the connection dies after a few chunks", async () => {
  const res = await post(sim.url, "/v1/chat/completions", { model: "m", messages, stream: true }, { "x-sim-fail": "midstream" });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let received = "";
  await assert.rejects(async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      received += decoder.decode(value, { stream: true });
    }
  });
  assert.ok(received.includes('"role":"assistant"'), "some chunks arrived first");
  assert.ok(!received.includes("[DONE]"));
  // the SDK surfaces it as an error too
  await assert.rejects(async () => {
    const s = await client.chat.completions.create({ model: "m", messages, stream: true }, { headers: { "x-sim-fail": "midstream" } });
    for await (const c of s) void c;
  });
  assert.ok(sim.stats().midStreamErrors >= 2);
});

test("x-sim-ttft-ms delays the first chunk after headers; x-sim-output-tokens overrides length", async () => {
  const t0 = performance.now();
  const res = await post(sim.url, "/v1/chat/completions", { model: "m", messages, stream: true, stream_options: { include_usage: true } }, { "x-sim-ttft-ms": "150", "x-sim-output-tokens": "5" });
  const headersAt = performance.now() - t0;
  const text = await res.text();
  const doneAt = performance.now() - t0;
  assert.ok(headersAt < 120, `headers before the first token (${headersAt}ms)`);
  assert.ok(doneAt >= 140, `first token after ttft (${doneAt}ms)`);
  const events = text.split("\n\n").filter(Boolean);
  assert.equal(events.at(-1), "data: [DONE]");
  const usage = JSON.parse(events.at(-2)!.slice(6)) as { usage: { completion_tokens: number }; choices: unknown[] };
  assert.deepEqual(usage.choices, []);
  assert.equal(usage.usage.completion_tokens, 5);
});

test("/v1/messages via the Anthropic SDK (JSON and stream)", async () => {
  const anthropic = new Anthropic({ baseURL: sim.url, apiKey: "x", maxRetries: 0 });
  const msg = await anthropic.messages.create({ model: "claude-sim", max_tokens: 100, system: "Be brief.", messages: [{ role: "user", content: "Say something about gateways." }] });
  assert.equal(msg.type, "message");
  assert.equal(msg.role, "assistant");
  assert.equal(msg.stop_reason, "end_turn");
  const block = msg.content[0]!;
  assert.equal(block.type, "text");
  assert.equal(countTokens(block.type === "text" ? block.text : ""), 12);
  assert.equal(msg.usage.output_tokens, 12);

  const capped = await anthropic.messages.create({ model: "c", max_tokens: 3, messages: [{ role: "user", content: "hi" }] });
  assert.equal(capped.stop_reason, "max_tokens");

  const stream = await anthropic.messages.create({ model: "claude-sim", max_tokens: 100, messages: [{ role: "user", content: "Say something about gateways." }], stream: true });
  let text = "";
  const types: string[] = [];
  for await (const ev of stream) {
    types.push(ev.type);
    if (ev.type === "content_block_delta" && ev.delta.type === "text_delta") text += ev.delta.text;
  }
  assert.equal(text, block.type === "text" ? block.text : "");
  assert.equal(types[0], "message_start");
  assert.equal(types.at(-1), "message_stop");

  const tool = await anthropic.messages.create({
    model: "c",
    max_tokens: 100,
    messages: [{ role: "user", content: "use lookup" }],
    tools: [{ name: "lookup", input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } }],
    tool_choice: { type: "any" },
  });
  assert.equal(tool.stop_reason, "tool_use");
  assert.deepEqual(tool.content[0]!.type === "tool_use" && tool.content[0]!.input, { q: "sim" });
});

test("/v1/messages raw: stream event sequence, JSON shape, Anthropic errors", async () => {
  const body = { model: "c", max_tokens: 50, messages: [{ role: "user", content: [{ type: "text", text: "hello there" }] }] };
  const json = (await (await post(sim.url, "/v1/messages", body)).json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(json).sort(), ["content", "id", "model", "role", "stop_reason", "stop_sequence", "type", "usage"]);

  const res = await post(sim.url, "/v1/messages", { ...body, stream: true });
  assert.match(res.headers.get("content-type")!, /^text\/event-stream/);
  const raw = await res.text();
  const events = raw
    .split("\n\n")
    .filter(Boolean)
    .map((e) => {
      const [ev, data] = e.split("\n");
      const type = ev!.slice("event: ".length);
      assert.equal((JSON.parse(data!.slice("data: ".length)) as { type: string }).type, type);
      return type;
    });
  const deltas = events.filter((e) => e === "content_block_delta").length;
  assert.equal(deltas, 12);
  assert.deepEqual(events, ["message_start", "content_block_start", ...Array<string>(deltas).fill("content_block_delta"), "content_block_stop", "message_delta", "message_stop"]);

  const rl = await post(sim.url, "/v1/messages", body, { "x-sim-fail": "429" });
  assert.equal(rl.status, 429);
  assert.equal(rl.headers.get("retry-after"), "3");
  assert.deepEqual(await rl.json(), { type: "error", error: { type: "rate_limit_error", message: "sim-upstream: simulated rate limit" } });
  const missing = await post(sim.url, "/v1/messages", { model: "c", messages: body.messages });
  assert.equal(missing.status, 400);
  assert.equal(((await missing.json()) as { error: { type: string } }).error.type, "invalid_request_error");
});

test("configured fault rates apply per request", async () => {
  const flaky = await startSimUpstream({ errorRate: 0.5, rateLimitRate: 0.5, random: (() => { let i = 0; return () => (i++ % 2 === 0 ? 0.1 : 0.9); })() });
  try {
    const a = await post(flaky.url, "/v1/embeddings", { model: "e", input: "x" });
    const b = await post(flaky.url, "/v1/embeddings", { model: "e", input: "x" });
    assert.equal(a.status, 500);
    assert.equal(b.status, 429);
    await a.text();
    await b.text();
    assert.equal(flaky.stats().errors, 1);
    assert.equal(flaky.stats().rateLimited, 1);
    assert.equal(flaky.stats().requests, 2);
  } finally {
    await flaky.close();
  }
});

test("embeddings input validation: mixed arrays and huge dimensions are 400", async () => {
  const mixed = await post(sim.url, "/v1/embeddings", { model: "e", input: ["a", 1] });
  assert.equal(mixed.status, 400);
  assert.equal(((await mixed.json()) as { error: { param: string } }).error.param, "input");
  const huge = await post(sim.url, "/v1/embeddings", { model: "e", input: "a", dimensions: 1_000_000 });
  assert.equal(huge.status, 400);
  await huge.text();
  const tokens = await post(sim.url, "/v1/embeddings", { model: "e", input: [[1, 2], [3]] });
  assert.equal(((await tokens.json()) as { data: unknown[] }).data.length, 2);
});
