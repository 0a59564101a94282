import { test } from "node:test";
import assert from "node:assert/strict";
import { SimProviderSchema } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import type { ChatCompletionChunk, ChatRequest } from "../../protocol/openai.js";
import { countPromptTokens, countTokens } from "../tokenizer.js";
import { signalCallContext, type CallContext } from "../provider.js";
import { createSimProvider, embedText, generateSimText, placeholderFor } from "./sim.js";
import { floatsToBase64 } from "./embedding-wire.js";

const cfg = (over: Record<string, unknown> = {}) => SimProviderSchema.parse({ type: "sim", ...over });
const ctx = (signal: AbortSignal = new AbortController().signal): CallContext => signalCallContext(signal, 1000, "t");
const req = (over: Partial<ChatRequest> = {}): ChatRequest => ({
  model: "sim-model",
  messages: [
    { role: "system", content: "You are terse." },
    { role: "user", content: "Tell me about load balancing." },
  ],
  ...over,
});
const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

async function collect(it: AsyncIterable<ChatCompletionChunk>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

test("generated text is exactly the requested number of tokens", () => {
  for (let n = 1; n <= 300; n += 7) {
    for (const seed of [1, 99, 123456]) {
      const t = generateSimText(seed, n);
      assert.equal(countTokens(t.text), n, `seed ${seed} n ${n}: ${t.text}`);
      assert.equal(t.pieces.join(""), t.text);
    }
  }
});

test("chat is deterministic per prompt and seed, with tokenizer-exact usage", async () => {
  const p = createSimProvider("s", cfg({ outputTokens: 24 }));
  const a = await p.chat(req(), ctx());
  const b = await p.chat(req(), ctx());
  const c = await p.chat(req({ seed: 7 }), ctx());
  const d = await p.chat(req({ messages: [{ role: "user", content: "Something else entirely" }] }), ctx());
  const text = a.choices[0]!.message.content!;
  assert.equal(text, b.choices[0]!.message.content);
  assert.notEqual(text, c.choices[0]!.message.content);
  assert.notEqual(text, d.choices[0]!.message.content);
  assert.equal(a.usage.completion_tokens, 24);
  assert.equal(a.usage.completion_tokens, countTokens(text));
  assert.equal(a.usage.prompt_tokens, countPromptTokens(req()));
  assert.equal(a.usage.total_tokens, a.usage.prompt_tokens + 24);
  assert.equal(a.choices[0]!.finish_reason, "stop");
  assert.equal(a.model, "sim-model");
  // the config seed changes the text too
  const e = await createSimProvider("s", cfg({ outputTokens: 24, seed: 5 })).chat(req(), ctx());
  assert.notEqual(text, e.choices[0]!.message.content);
});

test("max_tokens caps the output with finish_reason length", async () => {
  const p = createSimProvider("s", cfg({ outputTokens: 30 }));
  const r = await p.chat(req({ max_tokens: 5 }), ctx());
  assert.equal(r.usage.completion_tokens, 5);
  assert.equal(countTokens(r.choices[0]!.message.content!), 5);
  assert.equal(r.choices[0]!.finish_reason, "length");
  const r2 = await p.chat(req({ max_tokens: 100, max_completion_tokens: 3 }), ctx());
  assert.equal(r2.usage.completion_tokens, 3);
});

test("stop truncates at the first stop string", async () => {
  const p = createSimProvider("s", cfg({ outputTokens: 40 }));
  const full = (await p.chat(req(), ctx())).choices[0]!.message.content!;
  const words = full.split(" ");
  const stop = " " + words[5];
  const cut = full.indexOf(stop);
  const r = await p.chat(req({ stop: ["zzzz-never", stop] }), ctx());
  const text = r.choices[0]!.message.content!;
  assert.equal(text, full.slice(0, cut));
  assert.equal(r.choices[0]!.finish_reason, "stop");
  assert.equal(r.usage.completion_tokens, countTokens(text));
  // streamed form is cut the same way
  const chunks = await collect(await p.stream(req({ stop }), ctx()));
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? "").join(""), text);
});

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer" }, metric: { type: "boolean" }, note: { type: "string" } },
      required: ["city", "days", "metric"],
    },
  },
};

test("tool calls: required, named, auto-by-mention; none and after-tool-result answer in text", async () => {
  const p = createSimProvider("s", cfg());
  const required = await p.chat(req({ tools: [weatherTool], tool_choice: "required" }), ctx());
  const call = required.choices[0]!.message.tool_calls![0]!;
  assert.equal(required.choices[0]!.finish_reason, "tool_calls");
  assert.equal(required.choices[0]!.message.content, null);
  assert.equal(call.function.name, "get_weather");
  assert.deepEqual(JSON.parse(call.function.arguments), { city: "sim", days: 1, metric: true });
  assert.equal(required.usage.completion_tokens, countTokens("get_weather") + countTokens(call.function.arguments));

  const named = await p.chat(req({ tools: [weatherTool], tool_choice: { type: "function", function: { name: "get_weather" } } }), ctx());
  assert.equal(named.choices[0]!.finish_reason, "tool_calls");

  const mention = req({ tools: [weatherTool], messages: [{ role: "user", content: "please call get_weather for Oslo" }] });
  assert.equal((await p.chat(mention, ctx())).choices[0]!.finish_reason, "tool_calls");
  assert.equal((await p.chat({ ...mention, tool_choice: "none" }, ctx())).choices[0]!.message.tool_calls, undefined);
  assert.equal((await p.chat(req({ tools: [weatherTool] }), ctx())).choices[0]!.message.tool_calls, undefined);

  const afterResult = {
    ...mention,
    messages: [
      ...mention.messages,
      { role: "assistant" as const, content: null, tool_calls: [call] },
      { role: "tool" as const, tool_call_id: call.id, content: "sunny" },
    ],
  };
  const final = await p.chat(afterResult, ctx());
  assert.equal(final.choices[0]!.finish_reason, "stop");
  assert.ok(final.choices[0]!.message.content);

  const chunks = await collect(await p.stream(req({ tools: [weatherTool], tool_choice: "required" }), ctx()));
  const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((t) => t.function?.arguments ?? "").join("");
  assert.equal(args, call.function.arguments);
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, "tool_calls");
});

test("response_format json_object and json_schema produce valid JSON", async () => {
  const p = createSimProvider("s", cfg());
  const obj = await p.chat(req({ response_format: { type: "json_object" } }), ctx());
  assert.equal(typeof JSON.parse(obj.choices[0]!.message.content!), "object");
  const schema = {
    type: "object",
    properties: {
      name: { type: "string" },
      age: { type: "integer" },
      tags: { type: "array", items: { type: "string" } },
      kind: { enum: ["a", "b"] },
      nested: { type: "object", properties: { ok: { type: "boolean" } }, required: ["ok"] },
      optional: { type: "string" },
    },
    required: ["name", "age", "tags", "kind", "nested"],
  };
  const r = await p.chat(req({ response_format: { type: "json_schema", json_schema: { name: "person", schema } } }), ctx());
  const content = r.choices[0]!.message.content!;
  assert.deepEqual(JSON.parse(content), { name: "sim", age: 1, tags: [], kind: "a", nested: { ok: true } });
  assert.equal(r.usage.completion_tokens, countTokens(content));
  assert.deepEqual(placeholderFor({ $defs: { X: { type: "number" } }, type: "object", properties: { x: { $ref: "#/$defs/X" } } }), { x: 1 });
});

test("injected failures: 500, 429 with retry-after, hang until abort", async () => {
  await assert.rejects(createSimProvider("s", cfg({ errorRate: 1 })).chat(req(), ctx()), (e: unknown) => {
    assert.ok(e instanceof StratumError);
    assert.equal(e.kind, "UpstreamError");
    assert.equal(e.upstreamStatus, 500);
    return true;
  });
  await assert.rejects(createSimProvider("s", cfg({ rateLimitRate: 1, retryAfterSeconds: 2.5 })).stream(req(), ctx()), (e: unknown) => {
    assert.ok(e instanceof StratumError);
    assert.equal(e.kind, "UpstreamRateLimited");
    assert.equal(e.upstreamStatus, 429);
    assert.equal(e.retryAfterMs, 2500);
    return true;
  });
  // pinned randomness selects among the rates
  const p = createSimProvider("s", cfg({ errorRate: 0.2, rateLimitRate: 0.2 }), { random: () => 0.3 });
  await assert.rejects(p.chat(req(), ctx()), (e: unknown) => e instanceof StratumError && e.kind === "UpstreamRateLimited");
  const ok = createSimProvider("s", cfg({ errorRate: 0.2, rateLimitRate: 0.2 }), { random: () => 0.5 });
  assert.ok((await ok.chat(req(), ctx())).choices[0]!.message.content);

  const before = timers();
  const ac = new AbortController();
  const hung = createSimProvider("s", cfg({ hangRate: 1 })).chat(req(), ctx(ac.signal));
  let settled = false;
  void hung.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(settled, false, "a hang must not answer");
  ac.abort();
  await assert.rejects(hung, (e: unknown) => e instanceof StratumError && e.kind === "UpstreamTimeout");
  assert.equal(timers(), before);
});

test("stream: role chunk, content equal to chat(), finish chunk, then usage chunk", async () => {
  const p = createSimProvider("s", cfg({ outputTokens: 20 }));
  const full = await p.chat(req(), ctx());
  const chunks = await collect(await p.stream(req(), ctx()));
  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: "assistant", content: "" });
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? "").join("");
  assert.equal(text, full.choices[0]!.message.content);
  assert.equal(chunks.length, 1 + 20 + 2); // role + one token per chunk + finish + usage
  const finish = chunks.at(-2)!;
  assert.equal(finish.choices[0]!.finish_reason, "stop");
  const usage = chunks.at(-1)!;
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, full.usage);
  assert.ok(chunks.every((c) => c.id === chunks[0]!.id && c.object === "chat.completion.chunk"));
});

test("stream pacing honours ttftMs and tokensPerSecond", async () => {
  const p = createSimProvider("s", cfg({ outputTokens: 10, ttftMs: 60, tokensPerSecond: 200 }));
  const t0 = performance.now();
  const it = await p.stream(req(), ctx());
  const resolvedAt = performance.now() - t0;
  let firstAt = -1;
  for await (const c of it) if (firstAt < 0 && c.choices.length) firstAt = performance.now() - t0;
  const doneAt = performance.now() - t0;
  assert.ok(resolvedAt < 50, `stream() resolves before the first token (${resolvedAt}ms)`);
  assert.ok(firstAt >= 55, `first chunk after ttft (${firstAt}ms)`);
  assert.ok(doneAt >= 60 + 45, `10 tokens at 200/s take ~50ms after ttft (${doneAt}ms)`);
});

test("abort mid-stream ends the iterator with UpstreamTimeout and leaves no timers", async () => {
  const before = timers();
  const ac = new AbortController();
  const it = await createSimProvider("s", cfg({ outputTokens: 50, tokensPerSecond: 50 })).stream(req(), ctx(ac.signal));
  let n = 0;
  await assert.rejects(
    (async () => {
      for await (const c of it) {
        void c;
        if (++n === 3) ac.abort();
      }
    })(),
    (e: unknown) => e instanceof StratumError && e.kind === "UpstreamTimeout",
  );
  assert.equal(n, 3);
  assert.equal(timers(), before);
});

test("embeddings: unit length, deterministic, similar texts closer, base64 matches floats", async () => {
  const p = createSimProvider("s", cfg({ embeddingDimensions: 32 }));
  const r = await p.embed!({ model: "e", input: ["the cat sat on the mat", "the cat sat on a mat", "quarterly revenue grew strongly"] }, ctx());
  const [a, b, c] = r.data.map((d) => d.embedding as number[]);
  const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
  assert.equal(a!.length, 32);
  for (const v of [a!, b!, c!]) assert.ok(Math.abs(dot(v, v) - 1) < 1e-9);
  assert.ok(dot(a!, b!) > dot(a!, c!) + 0.3, `similar ${dot(a!, b!)} vs unrelated ${dot(a!, c!)}`);
  assert.deepEqual(embedText("the cat sat on the mat", 32), a);
  assert.equal(r.usage.prompt_tokens, countTokens("the cat sat on the mat") + countTokens("the cat sat on a mat") + countTokens("quarterly revenue grew strongly"));

  const b64 = await p.embed!({ model: "e", input: "the cat sat on the mat", encoding_format: "base64", dimensions: 8 }, ctx());
  const s = b64.data[0]!.embedding as string;
  assert.equal(typeof s, "string");
  const buf = Buffer.from(s, "base64");
  const floats = Array.from({ length: buf.length / 4 }, (_, i) => buf.readFloatLE(i * 4));
  const expected = embedText("the cat sat on the mat", 8);
  assert.equal(floats.length, 8);
  floats.forEach((f, i) => assert.ok(Math.abs(f - expected[i]!) < 1e-6));
  assert.equal(floatsToBase64([1]), Buffer.from([0, 0, 0x80, 0x3f]).toString("base64"));

  const tokens = await p.embed!({ model: "e", input: [1, 2, 3] }, ctx());
  assert.equal(tokens.data.length, 1);
  assert.equal(tokens.usage.prompt_tokens, 3);
});
