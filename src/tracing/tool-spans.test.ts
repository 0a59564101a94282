// Tool calls in a pipeline's trace: each call is a `tool.call` span (name,
// risk, outcome) under the answer stage; a call that needs a human approval
// shows as an event on the trace.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { postJson, startTestServer, type TestServer } from "../testing/harness.js";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const upstreams = new ScriptedUpstreams();
let srv: TestServer;

before(async () => {
  const up = await upstreams.serve((req, res) => {
    const body = JSON.parse(req.body) as Json;
    const msgs = body.messages as Json[];
    const last = msgs.at(-1);
    const user = [...msgs].reverse().find((m) => m.role === "user")?.content ?? "";
    const call = (name: string, args: Json) => ({ role: "assistant", content: null, tool_calls: [{ id: `call_${msgs.length}`, type: "function", function: { name, arguments: JSON.stringify(args) } }] });
    const message: Json = last.role === "tool" ? { role: "assistant", content: `Tool said: ${last.content}` } : /ticket/.test(user) ? call("create_ticket", { title: "Printer on fire" }) : call("document_search", { query: "relay port" });
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }));
  });
  srv = await startTestServer({
    providers: { llm: { type: "openai", baseUrl: `${up.origin}/v1` } },
    models: [{ name: "gpt-test", deployments: [{ provider: "llm" }] }],
    cache: { enabled: false },
    pipelines: [
      {
        name: "agent",
        collection: "docs",
        route: "gpt-test",
        retrieval: { condense: "off" },
        tools: {
          builtins: ["document_search"],
          webhooks: [{ name: "create_ticket", description: "Creates a ticket", url: "http://127.0.0.1:9/hook", risk: "high", allowPrivate: true, parameters: { type: "object", properties: { title: { type: "string" } }, required: ["title"] } }],
        },
      },
    ],
  });
});
after(async () => {
  await srv.close();
  upstreams.closeAll();
});

async function traceOf(r: { headers: Headers }): Promise<Json> {
  await srv.stratum.tracing!.flush();
  const res = await fetch(`${srv.url}/v1/traces/${r.headers.get("x-stratum-trace-id")}`, { headers: { authorization: `Bearer ${srv.adminKey}` } });
  assert.equal(res.status, 200);
  return res.json();
}

test("a tool call is a tool.call span with name, risk and outcome, between the model calls", async () => {
  const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "agent", messages: [{ role: "user", content: "search the docs" }] }, { authorization: `Bearer ${srv.adminKey}` });
  assert.equal(r.status, 200, r.text);
  const t = await traceOf(r);
  const tools = t.spans.filter((s: Json) => s.name === "tool.call");
  assert.equal(tools.length, 1);
  assert.deepEqual([tools[0].attributes["stratum.tool.name"], tools[0].attributes["stratum.tool.risk"], tools[0].attributes["stratum.tool.outcome"]], ["document_search", "low", "ok"]);
  const answer = t.spans.find((s: Json) => s.name === "pipeline.answer");
  assert.equal(tools[0].parent_span_id, answer.span_id);
  assert.equal(t.spans.filter((s: Json) => s.name === "model.call" && s.parent_span_id === answer.span_id).length, 2, "model → tool → model");
});

test("a call waiting for approval is an event on the trace", async () => {
  const r = await postJson(`${srv.url}/v1/chat/completions`, { model: "agent", messages: [{ role: "user", content: "open a ticket" }] }, { authorization: `Bearer ${srv.adminKey}` });
  assert.equal(r.status, 200, r.text);
  const approval = (r.json as Json).stratum.approval;
  assert.equal(approval.status, "pending");
  const t = await traceOf(r);
  const events = t.spans.flatMap((s: Json) => s.events);
  const asked = events.find((e: Json) => e.name === "tool.approval_requested");
  assert.ok(asked, JSON.stringify(events));
  assert.equal(asked.attributes["stratum.tool.name"], "create_ticket");
  assert.equal(asked.attributes["stratum.approval.id"], approval.id);
  assert.equal(t.spans.filter((s: Json) => s.name === "tool.call").length, 0, "not run before a decision");
});
