// Anthropic both ways over real HTTP: the official @anthropic-ai/sdk talks to
// Stratum's /v1/messages, and Stratum's Anthropic provider talks to an
// Anthropic-format upstream (sim-upstream's /v1/messages). Both inbound APIs
// reach every provider through the same router.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import Anthropic from "@anthropic-ai/sdk";
import { postJson, simProvider, startSim, startTestServer, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

describe("Anthropic Messages inbound and outbound", () => {
  let sim: SimUpstream;
  let srv: TestServer;
  let anthropic: Anthropic;
  before(async () => {
    sim = await startSim({ outputTokens: 10 });
    srv = await startTestServer({
      providers: { oai: simProvider(sim), claude: { type: "anthropic", baseUrl: sim.url } },
      models: [
        { name: "via-openai", deployments: [{ provider: "oai", model: "m" }] },
        { name: "via-anthropic", deployments: [{ provider: "claude", model: "claude-sim" }] },
      ],
      cache: { enabled: false },
    });
    anthropic = new Anthropic({ baseURL: srv.url, apiKey: srv.adminKey, maxRetries: 0 });
  });
  after(async () => {
    await srv.close();
    await sim.close();
  });

  for (const model of ["via-openai", "via-anthropic"]) {
    test(`Anthropic SDK → Stratum → ${model}: non-streaming`, async () => {
      const before = sim.stats();
      const msg = await anthropic.messages.create({ model, max_tokens: 50, system: "Be brief.", messages: [{ role: "user", content: "Hello" }] });
      assert.equal(msg.type, "message");
      assert.equal(msg.role, "assistant");
      const text = msg.content.map((b) => (b.type === "text" ? b.text : "")).join("");
      assert.ok(text.length > 0);
      assert.equal(msg.stop_reason, "end_turn");
      assert.equal(msg.usage.output_tokens, 10);
      assert.ok(msg.usage.input_tokens > 0);
      const after = sim.stats();
      if (model === "via-anthropic") assert.equal(after.messages, before.messages + 1, "outbound call used the Anthropic API");
      else assert.equal(after.chat, before.chat + 1, "outbound call used the OpenAI API");
    });

    test(`Anthropic SDK → Stratum → ${model}: streaming`, async () => {
      const stream = anthropic.messages.stream({ model, max_tokens: 50, messages: [{ role: "user", content: "Stream it" }] });
      let text = "";
      stream.on("text", (t) => (text += t));
      const final = await stream.finalMessage();
      assert.ok(text.length > 0);
      assert.equal(final.content.map((b) => (b.type === "text" ? b.text : "")).join(""), text);
      assert.equal(final.usage.output_tokens, 10);
    });
  }

  test("OpenAI SDK → Stratum → Anthropic provider, streaming with usage", async () => {
    const stream = await srv.client().chat.completions.create({ model: "via-anthropic", messages: [{ role: "user", content: "hi" }], stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage;
    for await (const c of stream) {
      text += c.choices[0]?.delta.content ?? "";
      usage = c.usage ?? usage;
    }
    assert.ok(text.length > 0);
    assert.equal(usage!.completion_tokens, 10);
  });

  test("tool use round-trips through the Anthropic API", async () => {
    const msg = await anthropic.messages.create({
      model: "via-openai",
      max_tokens: 100,
      tools: [{ name: "lookup", description: "look something up", input_schema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] } }],
      tool_choice: { type: "tool", name: "lookup" },
      messages: [{ role: "user", content: "look up stratum" }],
    });
    const use = msg.content.find((b) => b.type === "tool_use");
    assert.ok(use && use.type === "tool_use");
    assert.equal(use.name, "lookup");
    assert.equal(typeof (use.input as { q: unknown }).q, "string");
    assert.equal(msg.stop_reason, "tool_use");
  });

  test("errors come back in Anthropic's shape", async () => {
    await assert.rejects(anthropic.messages.create({ model: "missing", max_tokens: 5, messages: [{ role: "user", content: "x" }] }), (e: { status?: number }) => e.status === 404);
    const res = await postJson(`${srv.url}/v1/messages`, { model: "via-openai", messages: [] }, { "x-api-key": srv.adminKey });
    assert.equal(res.status, 400);
    assert.equal(res.json.type, "error");
    assert.equal(res.json.error.type, "invalid_request_error");
    const noKey = await postJson(`${srv.url}/v1/messages`, { model: "via-openai", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.json.error.type, "authentication_error");
  });
});
