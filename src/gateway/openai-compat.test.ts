// The official `openai` SDK, unmodified, against Stratum over real HTTP, with
// sim-upstream as the upstream behind an OpenAI-compatible provider.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startSimGateway, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

describe("OpenAI-compatible API with the official SDK", () => {
  let sim: SimUpstream;
  let srv: TestServer;
  let close: () => Promise<void>;
  before(async () => {
    ({ sim, srv, close } = await startSimGateway({ outputTokens: 12 }));
  });
  after(() => close());

  test("lists models", async () => {
    const list = await srv.client().models.list();
    const ids = list.data.map((m) => m.id);
    assert.ok(ids.includes("gpt-test"));
    assert.ok(ids.includes("extractive"));
    const one = await srv.client().models.retrieve("gpt-test");
    assert.equal(one.id, "gpt-test");
  });

  test("non-streaming completion through the upstream", async () => {
    const before = sim.stats().chat;
    const res = await srv.client().chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "Say something" }],
      max_tokens: 5,
      temperature: 0.2,
      seed: 7,
      user: "alice",
    });
    assert.equal(res.object, "chat.completion");
    assert.equal(res.choices[0]!.message.role, "assistant");
    assert.ok(res.choices[0]!.message.content!.length > 0);
    assert.equal(res.choices[0]!.finish_reason, "length");
    assert.equal(res.usage!.completion_tokens, 5);
    assert.ok(res.usage!.prompt_tokens > 0);
    assert.equal(sim.stats().chat, before + 1);
  });

  test("streaming yields role, content deltas and [DONE]; usage chunk only when asked", async () => {
    const stream = await srv.client().chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
    });
    let text = "";
    let sawRole = false;
    let usageChunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      if (chunk.usage) usageChunks++;
      const c = chunk.choices[0];
      if (!c) continue;
      if (c.delta.role === "assistant") sawRole = true;
      text += c.delta.content ?? "";
      finish = c.finish_reason ?? finish;
    }
    assert.ok(sawRole);
    assert.ok(text.length > 0);
    assert.equal(finish, "stop");
    assert.equal(usageChunks, 0, "no usage chunk unless stream_options.include_usage");

    const withUsage = await srv.client().chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, 12);
    for (const c of chunks.slice(0, -1)) assert.equal(c.usage, null, "every other chunk has usage: null");
  });

  test("streamed and non-streamed text are the same for the same request", async () => {
    const body = { model: "gpt-test", messages: [{ role: "user" as const, content: "same seed" }], seed: 3 };
    const full = await srv.client().chat.completions.create(body);
    const stream = await srv.client().chat.completions.create({ ...body, stream: true });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, full.choices[0]!.message.content);
  });

  test("tools and tool_choice pass through; tool calls come back", async () => {
    const tools = [
      {
        type: "function" as const,
        function: { name: "get_weather", description: "weather", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
      },
    ];
    const res = await srv.client().chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "weather in Paris?" }],
      tools,
      tool_choice: { type: "function", function: { name: "get_weather" } },
    });
    const call = res.choices[0]!.message.tool_calls?.[0];
    assert.ok(call && call.type === "function");
    assert.equal(call.function.name, "get_weather");
    assert.equal(typeof JSON.parse(call.function.arguments).city, "string");
    assert.equal(res.choices[0]!.finish_reason, "tool_calls");

    // And streamed: fragments keyed by index reassemble into the same call.
    const stream = await srv.client().chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "weather in Paris?" }],
      tools,
      tool_choice: "required",
      stream: true,
    });
    let name = "";
    let args = "";
    for await (const chunk of stream) {
      for (const tc of chunk.choices[0]?.delta.tool_calls ?? []) {
        name += tc.function?.name ?? "";
        args += tc.function?.arguments ?? "";
      }
    }
    assert.equal(name, "get_weather");
    assert.doesNotThrow(() => JSON.parse(args));
  });

  test("response_format json_schema yields valid JSON with the required fields", async () => {
    const res = await srv.client().chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "give me a person" }],
      response_format: {
        type: "json_schema",
        json_schema: { name: "person", schema: { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name", "age"] } },
      },
    });
    const parsed = JSON.parse(res.choices[0]!.message.content!);
    assert.equal(typeof parsed.name, "string");
    assert.equal(typeof parsed.age, "number");
  });

  test("stop sequences are honoured", async () => {
    const full = await srv.client().chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "stop test" }], seed: 11 });
    const words = full.choices[0]!.message.content!.split(" ");
    const stopWord = words[3]!;
    const cut = await srv.client().chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "stop test" }], seed: 11, stop: [stopWord] });
    assert.ok(!cut.choices[0]!.message.content!.includes(stopWord));
    assert.ok(cut.choices[0]!.message.content!.length < full.choices[0]!.message.content!.length);
  });

  test("embeddings: float and base64", async () => {
    const res = await srv.client().embeddings.create({ model: "gpt-test", input: ["hello world", "goodbye"], encoding_format: "float" });
    assert.equal(res.data.length, 2);
    assert.equal(res.data[0]!.embedding.length, 64);
    assert.ok(res.usage.prompt_tokens > 0);
    // The SDK requests base64 by default and decodes it to floats.
    const b64 = await srv.client().embeddings.create({ model: "gpt-test", input: "hello world" });
    assert.equal(b64.data[0]!.embedding.length, 64);
    for (let i = 0; i < 64; i++) assert.ok(Math.abs(b64.data[0]!.embedding[i]! - res.data[0]!.embedding[i]!) < 1e-6);
  });

  test("embeddings from a model that cannot embed are a 400 naming the model", async () => {
    await assert.rejects(
      srv.client().embeddings.create({ model: "extractive", input: "hello" }),
      (e: { status?: number; code?: string; param?: string }) => e.status === 400 && e.code === "model_not_supported" && e.param === "model",
    );
  });

  test("the extractive model answers from context in the messages, with citations", async () => {
    const res = await srv.client().chat.completions.create({
      model: "extractive",
      messages: [
        { role: "system", content: "The relay listens on port 4222. The console is served at the root path. Tokens are counted with o200k_base." },
        { role: "user", content: "Which port does the relay listen on?" },
      ],
    });
    const text = res.choices[0]!.message.content!;
    assert.match(text, /4222/);
    assert.match(text, /\[1\]/);
  });

  test("an unknown model is a 404 NotFoundError in the SDK", async () => {
    await assert.rejects(
      srv.client().chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }),
      (e: { status?: number; code?: string }) => e.status === 404 && e.code === "model_not_found",
    );
  });
});
