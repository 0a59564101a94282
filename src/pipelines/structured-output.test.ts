// Structured output over real HTTP: a json_schema request whose first answer
// is invalid is retried once with the validation errors; a second failure is a
// clear 502, never an invalid answer passed on as valid.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { postJson, startTestServer, type TestServer } from "../testing/harness.js";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const SCHEMA = { type: "object", properties: { city: { type: "string" }, population: { type: "integer" } }, required: ["city", "population"], additionalProperties: false };

describe("structured output", () => {
  const upstreams = new ScriptedUpstreams();
  let srv: TestServer;
  let answers: string[] = [];
  let seen: Array<{ body: string }>;
  before(async () => {
    const up = await upstreams.serve((req, res) => {
      const body = JSON.parse(req.body) as Json;
      const content = answers.shift() ?? "{}";
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }], usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } }));
    });
    seen = up.seen;
    srv = await startTestServer({ providers: { llm: { type: "openai", baseUrl: `${up.origin}/v1` } }, models: [{ name: "gpt-json", deployments: [{ provider: "llm" }], extractiveFallback: false }], cache: { enabled: false } });
  });
  after(async () => {
    await srv.close();
    upstreams.closeAll();
  });

  const ask = () => ({ model: "gpt-json", messages: [{ role: "user", content: "Largest city in Peru?" }], response_format: { type: "json_schema", json_schema: { name: "city", schema: SCHEMA } } });

  test("an invalid answer is retried once with the validation errors; the valid retry is returned", async () => {
    answers = ['{"city": "Lima"}', '```json\n{"city": "Lima", "population": 10000000}\n```'];
    const before = seen.length;
    const r = await srv.client().chat.completions.create(ask() as any);
    assert.match(r.choices[0]!.message.content!, /"population": 10000000/);
    assert.equal(seen.length - before, 2);
    const retry = JSON.parse(seen.at(-1)!.body) as Json;
    assert.match(retry.messages.at(-1).content, /population/, "the retry names what was wrong");
    assert.equal(retry.messages.at(-2).role, "assistant");
  });

  test("two invalid answers are a clear 502, not an invalid 200", async () => {
    answers = ["Lima, about ten million people.", '{"city": 42, "population": "many"}'];
    const r = await postJson(`${srv.url}/v1/chat/completions`, ask(), { authorization: `Bearer ${srv.adminKey}` });
    assert.equal(r.status, 502);
    assert.equal(r.json.error.code, "invalid_structured_output");
    assert.match(r.json.error.message, /\/city must be string|city/);
  });

  test("json_object requires a JSON object; a valid one passes without a retry", async () => {
    answers = ['{"ok": true}'];
    const before = seen.length;
    const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "gpt-json", messages: [{ role: "user", content: "json please" }], response_format: { type: "json_object" } }, { authorization: `Bearer ${srv.adminKey}` });
    assert.equal(r.status, 200);
    assert.equal(seen.length - before, 1);
  });

  test("a schema that does not compile is the client's 400", async () => {
    const r = await postJson(
      `${srv.url}/v1/chat/completions`,
      { model: "gpt-json", messages: [{ role: "user", content: "x" }], response_format: { type: "json_schema", json_schema: { name: "bad", schema: { type: "not-a-type" } } } },
      { authorization: `Bearer ${srv.adminKey}` },
    );
    assert.equal(r.status, 400);
    assert.equal(r.json.error.param, "response_format.json_schema.schema");
  });
});
