// Server-side tools in a pipeline over real HTTP: a scripted LLM route that
// calls tools, a high-risk webhook that waits for a human approval, the
// approvals API (list, approve, deny, audit), the sweeper resuming a decision
// made straight in the store (as `stratum approvals` does from another
// process), and a restart between the request and the decision.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, postJson, startTestServer, type TestServer } from "../testing/harness.js";
import { ScriptedUpstreams } from "../testing/scripted-upstream.js";
import { openDatabase } from "../data/index.js";
import { SqliteApprovalStore } from "../tools/index.js";
import type { ConfigInput } from "../config/schema.js";
import { execFile } from "node:child_process";
import { parseConfig } from "../config/index.js";

const ROOT = new URL("../..", import.meta.url).pathname;

/** The real `stratum` CLI as a child process on a data dir. */
function stratumCli(args: string[], dataDir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, STRATUM_DATA_DIR: dataDir };
  for (const k of ["STRATUM_CONFIG", "STRATUM_API_KEY"]) delete env[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const upstreams = new ScriptedUpstreams();
let hook: Server;
let hookUrl = "";
const hookCalls: Json[] = [];
let llmOrigin = "";
let llmSeen: Array<{ body: string }> = [];

/**
 * The scripted model: after a tool result it answers with what it saw; asked
 * for a ticket it calls create_ticket; asked to search it calls
 * document_search; asked to "loop" it searches forever.
 */
function script(body: Json): Json {
  const msgs = body.messages as Json[];
  const last = msgs.at(-1);
  const user = [...msgs].reverse().find((m) => m.role === "user")?.content ?? "";
  const call = (name: string, args: Json) => ({ role: "assistant", content: null, tool_calls: [{ id: `call_${msgs.length}`, type: "function", function: { name, arguments: JSON.stringify(args) } }] });
  if (/loop/.test(user)) return call("document_search", { query: "relay" });
  if (last.role === "tool") return { role: "assistant", content: `Tool said: ${last.content}` };
  if (/ticket/.test(user)) return call("create_ticket", { title: "Printer on fire" });
  if (/search/.test(user)) return call("document_search", { query: "relay port" });
  return { role: "assistant", content: "Plain answer." };
}

function config(): ConfigInput {
  return {
    providers: { llm: { type: "openai", baseUrl: `${llmOrigin}/v1` } },
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
          webhooks: [
            {
              name: "create_ticket",
              description: "Creates a support ticket",
              url: hookUrl,
              risk: "high",
              allowPrivate: true,
              parameters: { type: "object", properties: { title: { type: "string" } }, required: ["title"], additionalProperties: false },
            },
          ],
          budgets: { maxSteps: 3 },
        },
      },
    ],
  };
}

before(async () => {
  const up = await upstreams.serve((req, res) => {
    const body = JSON.parse(req.body) as Json;
    const message = script(body);
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify({
        id: "x",
        object: "chat.completion",
        created: 1,
        model: body.model,
        choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }],
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      }),
    );
  });
  llmOrigin = up.origin;
  llmSeen = up.seen;
  hook = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      hookCalls.push(JSON.parse(body || "null"));
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ticket: "T-1", title: JSON.parse(body).title }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
});
after(async () => {
  upstreams.closeAll();
  await new Promise<void>((r) => hook.close(() => r()));
});

function client(srv: TestServer) {
  const auth = { authorization: `Bearer ${srv.adminKey}` };
  return {
    ask: (content: string, session?: string) =>
      postJson(`${srv.url}/v1/chat/completions`, { model: "agent", messages: [{ role: "user", content }] }, { ...auth, ...(session ? { "x-session-id": session } : {}) }),
    get: async (path: string) => {
      const res = await fetch(`${srv.url}${path}`, { headers: auth });
      return { status: res.status, json: (await res.json()) as Json };
    },
    post: (path: string, body: Json) => postJson(`${srv.url}${path}`, body, auth),
  };
}

describe("pipeline tools with approvals", () => {
  let srv: TestServer;
  let c: ReturnType<typeof client>;
  before(async () => {
    srv = await startTestServer(config());
    c = client(srv);
    const r = await c.post("/v1/collections/docs/documents", { source: "relay.md", content: "# Relay\n\nThe relay listens on port 7443." });
    assert.ok(r.status < 300, r.text);
  });
  after(() => srv.close());

  test("a high-risk call waits for approval; approving runs the webhook once and the answer lands in the session", async () => {
    const before = hookCalls.length;
    const r = await c.ask("Please open a ticket for the printer", "s-approve");
    assert.equal(r.status, 200, r.text);
    const approval = r.json.stratum.approval;
    assert.equal(approval.status, "pending");
    assert.equal(approval.tool, "create_ticket");
    assert.ok(approval.expires_at > Date.now() / 1000);
    assert.equal(r.json.choices[0].finish_reason, "stop");
    assert.equal(r.json.choices[0].message.content, `This needs approval before I can continue: create_ticket (approval ${approval.id}).`);
    assert.equal(hookCalls.length, before, "the webhook is not called before the approval");

    const list = await c.get("/v1/approvals");
    assert.equal(list.status, 200);
    const listed = list.json.data.find((a: Json) => a.id === approval.id);
    assert.ok(listed, "listed as pending");
    assert.deepEqual(listed.arguments, { title: "Printer on fire" });
    assert.equal(listed.risk, "high");
    assert.equal(listed.state, undefined, "the run state is not exposed");
    assert.equal((await c.get(`/v1/approvals/${approval.id}`)).json.status, "pending");

    const ok = await c.post(`/v1/approvals/${approval.id}/approve`, {});
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.approval.status, "approved");
    assert.ok(ok.json.approval.decided_by, "decided by the key id");
    assert.equal(ok.json.result.status, "completed");
    assert.match(ok.json.result.message, /Tool said: .*T-1/);
    assert.equal(hookCalls.length, before + 1, "the webhook ran once");
    assert.deepEqual(hookCalls.at(-1), { title: "Printer on fire" });

    const session = await c.get("/v1/sessions/s-approve");
    const texts = session.json.messages.map((m: Json) => m.content);
    assert.ok(texts.some((t: string) => /needs approval/.test(t)));
    assert.match(texts.at(-1), /Tool said: .*T-1/, "the resumed answer is appended to the session");

    const again = await c.post(`/v1/approvals/${approval.id}/approve`, {});
    assert.equal(again.status, 409);
    assert.equal((await c.post(`/v1/approvals/${approval.id}/deny`, { reason: "late" })).status, 409);
    assert.equal(hookCalls.length, before + 1, "never twice");
  });

  test("a denial with a reason is what the model sees; the webhook is never called", async () => {
    const before = hookCalls.length;
    const r = await c.ask("open a ticket please");
    const id = r.json.stratum.approval.id;
    assert.equal((await c.post(`/v1/approvals/${id}/deny`, {})).status, 400, "a denial needs a reason");
    const denied = await c.post(`/v1/approvals/${id}/deny`, { reason: "not during the freeze" });
    assert.equal(denied.status, 200, denied.text);
    assert.equal(denied.json.approval.status, "denied");
    assert.equal(denied.json.result.status, "completed");
    assert.match(denied.json.result.message, /denied.*not during the freeze/);
    const toolMsg = JSON.parse(llmSeen.at(-1)!.body).messages.at(-1);
    assert.equal(toolMsg.role, "tool");
    assert.match(toolMsg.content, /not during the freeze/);
    assert.equal(hookCalls.length, before);

    const audit = await c.get("/v1/approvals/audit");
    assert.equal(audit.status, 200);
    const entry = audit.json.data.find((e: Json) => e.id === id);
    assert.equal(entry.status, "denied");
    assert.equal(entry.reason, "not during the freeze");
  });

  test("another tenant's approval is a 404, and its list is empty", async () => {
    const r = await c.ask("ticket for tenant check");
    const id = r.json.stratum.approval.id;
    const other = await srv.createKey({ tenant: "acme" });
    const auth = { authorization: `Bearer ${other}` };
    assert.equal((await fetch(`${srv.url}/v1/approvals/${id}`, { headers: auth })).status, 404);
    assert.equal((await postJson(`${srv.url}/v1/approvals/${id}/approve`, {}, auth)).status, 404);
    const list = (await (await fetch(`${srv.url}/v1/approvals`, { headers: auth })).json()) as Json;
    assert.deepEqual(list.data, []);
    assert.equal((await fetch(`${srv.url}/v1/approvals/audit?tenant=default`, { headers: auth })).status, 403);
    assert.equal((await c.get(`/v1/approvals/${id}`)).json.status, "pending", "untouched");
  });

  test("a low-risk document_search runs without approval (collection of the caller's tenant)", async () => {
    const r = await c.ask("search the docs for the relay port");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.stratum.approval, undefined);
    assert.match(r.json.choices[0].message.content, /Tool said: .*7443/);
    assert.deepEqual(r.json.stratum.tools.calls, [{ name: "document_search", ok: true }]);
    assert.equal(r.json.usage.total_tokens, 30, "usage of both model calls");
  });

  test("streaming replays the tool run's answer as chunks", async () => {
    const stream = await srv.client().chat.completions.create({ model: "agent", stream: true, messages: [{ role: "user", content: "search the docs for the relay port" }] });
    let text = "";
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.match(text, /Tool said: .*7443/);
    assert.equal(finish, "stop");
  });

  test("an exhausted step budget is an error, never a partial answer", async () => {
    const r = await c.ask("loop forever please");
    assert.ok(r.status >= 400, r.text);
    assert.equal(r.json.error.code, "tool_budget_exceeded");
    assert.equal(r.json.choices, undefined);
  });
});

describe("approvals decided outside the request", () => {
  test("a decision made in the store (as the CLI does) is resumed by the sweeper", async () => {
    const srv = await startTestServer(config(), { approvalSweepMs: 50 });
    try {
      const c = client(srv);
      const r = await c.ask("make a ticket", "s-cli");
      const id = r.json.stratum.approval.id;
      const before = hookCalls.length;
      const db = openDatabase(join(srv.dataDir, "stratum.db"));
      try {
        const store = new SqliteApprovalStore(db);
        const d = await store.decide(id, "default", { approve: true, by: "cli:ops" });
        assert.equal(d.ok, true);
      } finally {
        db.close();
      }
      const done = await eventually(async () => (await c.get(`/v1/approvals/${id}`)).json.resumed_at, 5000, "the sweeper to resume");
      assert.ok(done);
      const session = await eventually(async () => {
        const s = await c.get("/v1/sessions/s-cli");
        return /Tool said/.test(s.json.messages.at(-1)?.content ?? "") ? s : undefined;
      }, 3000, "the answer in the session");
      assert.match(session!.json.messages.at(-1).content, /T-1/);
      assert.equal(hookCalls.length, before + 1);
      assert.equal((await c.post(`/v1/approvals/${id}/approve`, {})).status, 409);
    } finally {
      await srv.close();
    }
  });

  test("a run survives a restart: approve on a new server over the same data dir", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stratum-tools-restart-"));
    try {
      const first = await startTestServer(config(), { dataDir });
      const r = await client(first).ask("ticket before restart", "s-restart");
      const id = r.json.stratum.approval.id;
      await first.close();

      const second = await startTestServer(config(), { dataDir });
      try {
        const c = client(second);
        assert.ok((await c.get("/v1/approvals")).json.data.some((a: Json) => a.id === id));
        const before = hookCalls.length;
        const ok = await c.post(`/v1/approvals/${id}/approve`, { reason: "fine" });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.json.result.status, "completed");
        assert.equal(hookCalls.length, before + 1);
        const s = await c.get("/v1/sessions/s-restart");
        assert.match(s.json.messages.at(-1).content, /Tool said: .*T-1/);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("approvals: CLI and config", () => {
  test("stratum approvals list/deny on a running server's data dir; the sweeper resumes the denial", async () => {
    const srv = await startTestServer(config(), { approvalSweepMs: 50 });
    try {
      const c = client(srv);
      const before = hookCalls.length;
      const r = await c.ask("ticket via the CLI", "s-cli-deny");
      const id = r.json.stratum.approval.id;
      const listed = await stratumCli(["approvals", "list", "--json"], srv.dataDir);
      assert.equal(listed.code, 0, listed.stderr);
      const mine = (JSON.parse(listed.stdout) as Json[]).find((a) => a.id === id);
      assert.equal(mine.tool, "create_ticket");
      assert.equal(mine.state, undefined);
      const noReason = await stratumCli(["approvals", "deny", id], srv.dataDir);
      assert.notEqual(noReason.code, 0, "deny needs --reason");
      const denied = await stratumCli(["approvals", "deny", id, "--reason", "use the portal"], srv.dataDir);
      assert.equal(denied.code, 0, denied.stderr);
      assert.match(denied.stdout, /denied/);
      const s = await eventually(async () => {
        const got = await c.get("/v1/sessions/s-cli-deny");
        return /use the portal/.test(got.json.messages.at(-1)?.content ?? "") ? got : undefined;
      }, 5000, "the sweeper to resume the denied run");
      assert.ok(s);
      assert.equal(hookCalls.length, before);
      const again = await stratumCli(["approvals", "approve", id], srv.dataDir);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /already denied/);
    } finally {
      await srv.close();
    }
  });

  test("tools that need approval are accepted with storage: postgres (the PostgreSQL approval store); so are low-risk ones", () => {
    const pg = { storage: "postgres" as const, postgres: { url: { env: "STRATUM_TEST_PG_URL" } } };
    const cfg = config() as Json;
    process.env.STRATUM_TEST_PG_URL = "postgres://x@localhost/db";
    try {
    assert.doesNotThrow(() => parseConfig({ ...cfg, ...pg }));
    const lowOnly = { ...cfg, pipelines: [{ ...cfg.pipelines[0], tools: { builtins: ["document_search"] } }] };
    assert.doesNotThrow(() => parseConfig({ ...lowOnly, ...pg }));
    } finally {
      delete process.env.STRATUM_TEST_PG_URL;
    }
    assert.throws(() => parseConfig({ ...cfg, pipelines: [{ ...cfg.pipelines[0], tools: { builtins: [{ http_get: { allowDomains: [] } }] } }] }), /allowDomains/);
  });
});
