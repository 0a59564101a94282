// OpenAI's Responses API (POST /v1/responses) through the official `openai`
// SDK, unmodified, against Stratum over real HTTP, with sim-upstream behind an
// OpenAI-compatible provider: the same flow and router as chat completions.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { postJson, startSim, startTestServer, simProvider, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

const MODEL = "gpt-test";
const WEATHER_TOOL = {
  type: "function" as const,
  name: "get_weather",
  description: "Weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

describe("Responses API with the official SDK", () => {
  let sim: SimUpstream;
  let broken: SimUpstream;
  let srv: TestServer;
  before(async () => {
    sim = await startSim({ outputTokens: 12 });
    broken = await startSim({ outputTokens: 40, midStreamErrorRate: 1 });
    srv = await startTestServer({
      providers: { up: simProvider(sim), broken: simProvider(broken) },
      models: [
        { name: MODEL, deployments: [{ provider: "up", model: "sim-model" }] },
        { name: "cut-off", deployments: [{ provider: "broken" }], extractiveFallback: false },
      ],
      cache: { enabled: false },
    });
  });
  after(async () => {
    await srv.close();
    await sim.close();
    await broken.close();
  });

  test("a text input: output_text, usage, completed; max_output_tokens makes it incomplete", async () => {
    const before = sim.stats().chat;
    const r = await srv.client().responses.create({ model: MODEL, input: "Say something" });
    assert.equal(r.object, "response");
    assert.equal(r.status, "completed");
    assert.ok(r.id.startsWith("resp_"));
    assert.ok(r.output_text.length > 0);
    assert.equal(r.output[0]!.type, "message");
    assert.equal(r.usage!.output_tokens, 12);
    assert.ok(r.usage!.input_tokens > 0);
    assert.equal(r.usage!.total_tokens, r.usage!.input_tokens + 12);
    assert.equal(sim.stats().chat, before + 1);
    // Stratum's extension, as on chat completions.
    assert.deepEqual((r as unknown as { stratum: unknown }).stratum, { served_by: MODEL, cache: "bypass", attempts: 1 });

    const cut = await srv.client().responses.create({ model: MODEL, input: "Say something", max_output_tokens: 5 });
    assert.equal(cut.status, "incomplete");
    assert.equal(cut.incomplete_details?.reason, "max_output_tokens");
    assert.equal(cut.usage!.output_tokens, 5);
  });

  test("instructions and message items with text parts", async () => {
    const r = await srv.client().responses.create({
      model: MODEL,
      instructions: "Be brief.",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Hello" }] },
        { role: "assistant", content: "Hi there." },
        { type: "message", role: "user", content: "What next?" },
      ],
      temperature: 0.2,
    });
    assert.equal(r.status, "completed");
    assert.equal(r.instructions, "Be brief.");
    assert.ok(r.output_text.length > 0);
  });

  test("streaming: created first, text deltas adding up to the final text, completed last, sequence numbers in order", async () => {
    const stream = await srv.client().responses.create({ model: MODEL, input: "Stream something", stream: true });
    const types: string[] = [];
    const seqs: number[] = [];
    let text = "";
    let final: { output_text?: string; status?: string; usage?: { output_tokens: number } | null } | undefined;
    for await (const e of stream) {
      types.push(e.type);
      seqs.push(e.sequence_number);
      if (e.type === "response.output_text.delta") text += e.delta;
      if (e.type === "response.completed") final = e.response;
    }
    assert.deepEqual(types.slice(0, 4), ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    assert.ok(types.filter((t) => t === "response.output_text.delta").length > 2);
    assert.deepEqual(types.slice(-4), ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    assert.deepEqual(seqs, seqs.map((_, i) => i));
    assert.ok(text.length > 0);
    assert.equal(final?.status, "completed");
    assert.equal(final?.usage?.output_tokens, 12);

    // The SDK's stream helper assembles the same response.
    const helper = srv.client().responses.stream({ model: MODEL, input: "Stream something" });
    const whole = await helper.finalResponse();
    assert.equal(whole.output_text, text);
  });

  test("a stream cut off after it started ends with an error event and response.failed", async () => {
    const res = await fetch(`${srv.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "cut-off", input: "Stream something long", stream: true }),
    });
    assert.equal(res.status, 200);
    const events = [...(await res.text()).matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
    assert.equal(events[0], "response.created");
    assert.ok(events.includes("response.output_text.delta"));
    assert.deepEqual(events.slice(-2), ["error", "response.failed"]);
    assert.ok(!events.includes("response.completed"));
  });

  test("function tools: a function_call item; its output sent back gets a text answer; streamed argument deltas", async () => {
    const r = await srv.client().responses.create({ model: MODEL, input: "Use get_weather for Paris", tools: [WEATHER_TOOL] });
    const call = r.output.find((o) => o.type === "function_call");
    assert.ok(call && call.type === "function_call");
    assert.equal(call.name, "get_weather");
    assert.equal(typeof JSON.parse(call.arguments).city, "string");

    const next = await srv.client().responses.create({
      model: MODEL,
      tools: [WEATHER_TOOL],
      input: [
        { role: "user", content: "Use get_weather for Paris" },
        { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: "function_call_output", call_id: call.call_id, output: '{"temp_c": 18}' },
      ],
    });
    assert.equal(next.output[0]!.type, "message");
    assert.ok(next.output_text.length > 0);

    const stream = await srv.client().responses.create({ model: MODEL, input: "Use get_weather for Paris", tools: [WEATHER_TOOL], stream: true });
    let args = "";
    let done: string | undefined;
    for await (const e of stream) {
      if (e.type === "response.function_call_arguments.delta") args += e.delta;
      if (e.type === "response.function_call_arguments.done") done = e.arguments;
    }
    assert.ok(args.length > 0);
    assert.equal(done, args);
  });

  test("text.format json_schema: output_text is JSON that fits the schema", async () => {
    const r = await srv.client().responses.create({
      model: MODEL,
      input: "Which city?",
      text: { format: { type: "json_schema", name: "city", schema: WEATHER_TOOL.parameters, strict: true } },
    });
    assert.equal(typeof JSON.parse(r.output_text).city, "string");
  });

  test("what a stateless gateway cannot serve is a 400 naming the field; the server keeps serving", async () => {
    const auth = { authorization: `Bearer ${srv.adminKey}` };
    const cases: Array<[unknown, string]> = [
      [{ model: MODEL, input: "hi", previous_response_id: "resp_123" }, "previous_response_id"],
      [{ model: MODEL, input: "hi", background: true }, "background"],
      [{ model: MODEL, input: "hi", tools: [{ type: "web_search" }] }, "tools[0].type"],
      [{ model: MODEL, input: [{ type: "reasoning", summary: [] }] }, "input[0].type"],
      [{ model: MODEL, input: [{ content: "no role" }] }, "input[0].role"],
      [{ model: MODEL, input: [{ role: "user", content: [{ type: "input_image", image_url: "http://x" }] }] }, "input[0].content[0].type"],
      [{ model: MODEL }, "input"],
      [{ model: MODEL, input: [] }, "input"],
    ];
    for (const [body, param] of cases) {
      const res = await postJson(`${srv.url}/v1/responses`, body, auth);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal((res.json as { error: { param: string } }).error.param, param, res.text);
    }
    const unknown = await postJson(`${srv.url}/v1/responses`, { model: "nope", input: "hi" }, auth);
    assert.equal(unknown.status, 404);
    const noKey = await postJson(`${srv.url}/v1/responses`, { model: MODEL, input: "hi" });
    assert.equal(noKey.status, 401);
    const ok = await srv.client().responses.create({ model: MODEL, input: "still here?" });
    assert.equal(ok.status, "completed");
  });
});
