// MCP tools in a pipeline over real HTTP: a Stratum server whose pipeline
// offers the tools of a stdio MCP server (the fixture process) and of a
// streamable-HTTP MCP server, a scripted LLM upstream that asks for them, and
// the approvals API for the high-risk server's tool.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postJson, startTestServer, type TestServer } from "../../testing/harness.js";
import { ScriptedUpstreams, type Seen } from "../../testing/scripted-upstream.js";
import type { ConfigInput } from "../../config/schema.js";
import { startHttpMcpFixture, type HttpMcpFixture } from "./fixtures/http-server.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const STDIO_FIXTURE = new URL("./fixtures/stdio-server.ts", import.meta.url).pathname;

/** The scripted model: asks for the tool the user names; after a tool result, reports it. */
function script(body: Json): Json {
  const msgs = body.messages as Json[];
  const last = msgs.at(-1);
  const user = [...msgs].reverse().find((m) => m.role === "user")?.content ?? "";
  const call = (name: string, args: Json) => ({ role: "assistant", content: null, tool_calls: [{ id: `call_${msgs.length}`, type: "function", function: { name, arguments: JSON.stringify(args) } }] });
  if (last.role === "tool") return { role: "assistant", content: `Tool said: ${last.content}` };
  if (/bad sum/.test(user)) return call("calc__add", { a: "two", b: 3 });
  if (/sum/.test(user)) return call("calc__add", { a: 2, b: 3 });
  if (/pid/.test(user)) return call("calc__whoami", {});
  if (/crash/.test(user)) return call("calc__crash", {});
  if (/order/.test(user)) return call("shop__lookup_order", { id: "ORD-9" });
  if (/wipe/.test(user)) return call("ops__wipe", { table: "users" });
  return { role: "assistant", content: "Plain answer." };
}

const upstreams = new ScriptedUpstreams();
let llmOrigin = "";
let llmSeen: Seen[] = [];
let shop: HttpMcpFixture;
const dir = mkdtempSync(join(tmpdir(), "stratum-mcp-pipeline-"));
const callLog = join(dir, "calls.jsonl");

function config(): ConfigInput {
  const stdio = { transport: "stdio" as const, command: process.execPath, args: ["--import", "tsx", STDIO_FIXTURE] };
  return {
    providers: { llm: { type: "openai", baseUrl: `${llmOrigin}/v1` } },
    models: [{ name: "gpt-test", deployments: [{ provider: "llm" }] }],
    cache: { enabled: false },
    pipelines: [
      {
        name: "agent",
        route: "gpt-test",
        retrieval: { condense: "off" },
        tools: {
          mcp: [
            { name: "calc", ...stdio, risk: "low", allow: ["add", "whoami", "crash"] },
            { name: "ops", ...stdio, env: { MCP_FIXTURE_CALL_LOG: callLog }, risk: "high", allow: ["wipe"] },
            { name: "shop", transport: "http", url: shop.url, headers: { authorization: "Bearer shop-token" }, allowPrivate: true, risk: "medium" },
          ],
          budgets: { maxSteps: 3 },
        },
      },
    ],
  };
}

function wipes(): Json[] {
  return existsSync(callLog) ? readFileSync(callLog, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("MCP tools in a pipeline over HTTP", () => {
  let srv: TestServer;
  const ask = (content: string) => postJson(`${srv.url}/v1/chat/completions`, { model: "agent", messages: [{ role: "user", content }] }, { authorization: `Bearer ${srv.adminKey}` });

  before(async () => {
    const up = await upstreams.serve((req, res) => {
      const body = JSON.parse(req.body) as Json;
      const message = script(body);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }));
    });
    llmOrigin = up.origin;
    llmSeen = up.seen;
    shop = await startHttpMcpFixture();
    srv = await startTestServer(config());
  });
  after(async () => {
    await srv?.close();
    await shop?.close();
    upstreams.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the model is offered every MCP tool with its JSON schema; a stdio tool call runs and its result comes back", async () => {
    const r = await ask("what is the sum?");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, "Tool said: 5");
    assert.deepEqual(r.json.stratum.tools.calls, [{ name: "calc__add", ok: true }]);
    const offered = (JSON.parse(llmSeen.at(-2)!.body).tools as Json[]).map((t) => t.function);
    assert.deepEqual(offered.map((f: Json) => f.name).sort(), ["calc__add", "calc__crash", "calc__whoami", "ops__wipe", "shop__lookup_order"]);
    const add = offered.find((f: Json) => f.name === "calc__add");
    assert.equal(add.description, "Adds two numbers");
    assert.deepEqual(add.parameters.properties, { a: { type: "number" }, b: { type: "number" } });
  });

  test("an HTTP MCP tool (medium risk, below the threshold) runs at once with its headers", async () => {
    const r = await ask("where is my order?");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.choices[0].message.content, 'Tool said: {"id":"ORD-9","status":"shipped"}');
    assert.ok(shop.seen.every((s) => s.auth === "Bearer shop-token"));
  });

  test("arguments that break the server's schema never reach it; the model reads why", async () => {
    const r = await ask("a bad sum please");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.stratum.tools.calls, [{ name: "calc__add", ok: false }]);
    const toolMsg = JSON.parse(llmSeen.at(-1)!.body).messages.at(-1);
    assert.equal(toolMsg.role, "tool");
    assert.match(toolMsg.content, /invalid_arguments.*\/a: must be number/);
  });

  test("a high-risk MCP tool waits for approval; approving runs it exactly once", async () => {
    const r = await ask("wipe the users table");
    assert.equal(r.status, 200, r.text);
    const approval = r.json.stratum.approval;
    assert.equal(approval.status, "pending");
    assert.equal(approval.tool, "ops__wipe");
    assert.deepEqual(wipes(), [], "nothing ran before the decision");
    const listed = await (await fetch(`${srv.url}/v1/approvals`, { headers: { authorization: `Bearer ${srv.adminKey}` } })).json() as Json;
    assert.deepEqual(listed.data.find((a: Json) => a.id === approval.id).arguments, { table: "users" });
    const ok = await postJson(`${srv.url}/v1/approvals/${approval.id}/approve`, {}, { authorization: `Bearer ${srv.adminKey}` });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.result.status, "completed");
    assert.equal(ok.json.result.message, 'Tool said: {"wiped":"users"}');
    assert.deepEqual(wipes().map((w) => w.table), ["users"]);
    assert.equal((await postJson(`${srv.url}/v1/approvals/${approval.id}/approve`, {}, { authorization: `Bearer ${srv.adminKey}` })).status, 409);
    assert.equal(wipes().length, 1);
  });

  test("a server that crashes mid-call is a clean tool error; the next request reconnects it", async () => {
    const pid1 = Number(/Tool said: (\d+)/.exec((await ask("your pid?")).json.choices[0].message.content)![1]);
    const r = await ask("crash now");
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.stratum.tools.calls, [{ name: "calc__crash", ok: false }]);
    assert.match(r.json.choices[0].message.content, /tool_failed.*MCP server \\"calc\\"/);
    assert.equal((await fetch(`${srv.url}/healthz`)).status, 200, "the gateway is fine");
    const again = await ask("what is the sum?");
    assert.equal(again.json.choices[0].message.content, "Tool said: 5");
    const pid2 = Number(/Tool said: (\d+)/.exec((await ask("your pid?")).json.choices[0].message.content)![1]);
    assert.notEqual(pid2, pid1);
    assert.equal(processAlive(pid1), false);

    await srv.close();
    for (let i = 0; i < 50 && processAlive(pid2); i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal(processAlive(pid2), false, "shutdown ends the MCP server processes");
  });
});
