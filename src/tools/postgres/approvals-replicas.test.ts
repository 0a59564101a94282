// Approvals with storage: postgres across two real server processes sharing
// one PostgreSQL schema: a run suspended on one replica is listed and approved
// on the other; two replicas approving at once have one winner; a decision made
// by `stratum approvals` (another process) is resumed by the replicas'
// sweepers exactly once; the answer lands in the shared session.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually } from "../../testing/harness.js";
import { createTestSchema, postgresTestsEnabled, TEST_POSTGRES_URL, type PgTestSchema } from "../../testing/postgres.js";
import { ScriptedUpstreams } from "../../testing/scripted-upstream.js";
import { spawnServer, type ServerProcess } from "../../testing/server-process.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const ROOT = new URL("../../..", import.meta.url).pathname;
const ADMIN = "sk-stratum-approvals-replicas-0123456789";

async function call(url: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

function cli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete full.STRATUM_API_KEY;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env: full, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("approvals on PostgreSQL across two server processes", { skip: !postgresTestsEnabled && "STRATUM_SKIP_POSTGRES=1" }, () => {
  const upstreams = new ScriptedUpstreams();
  const hookCalls: Json[] = [];
  let hook: Server;
  let pg: PgTestSchema;
  let dir: string;
  let configFile: string;
  let env: Record<string, string>;
  const replicas: ServerProcess[] = [];

  before(async () => {
    const llm = await upstreams.serve((req, res) => {
      const body = JSON.parse(req.body) as Json;
      const msgs = body.messages as Json[];
      const last = msgs.at(-1);
      const message =
        last.role === "tool"
          ? { role: "assistant", content: `Tool said: ${last.content}` }
          : { role: "assistant", content: null, tool_calls: [{ id: `call_${msgs.length}`, type: "function", function: { name: "create_ticket", arguments: JSON.stringify({ title: String(last.content) }) } }] };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: body.model, choices: [{ index: 0, message, finish_reason: message.tool_calls ? "tool_calls" : "stop" }], usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 } }));
    });
    hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        hookCalls.push(JSON.parse(body || "null"));
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ ticket: `T-${hookCalls.length}` }));
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

    pg = await createTestSchema({ migrate: false, prefix: "stratum_approvals" });
    dir = mkdtempSync(join(tmpdir(), "stratum-approvals-pg-"));
    configFile = join(dir, "stratum.config.json");
    writeFileSync(
      configFile,
      JSON.stringify({
        storage: "postgres",
        postgres: { url: "${STRATUM_APPROVALS_PG}", schema: pg.schema, maxConnections: 4 },
        providers: { llm: { type: "openai", baseUrl: `${llm.origin}/v1` } },
        models: [{ name: "gpt-test", deployments: [{ provider: "llm" }] }],
        cache: { enabled: false },
        retrieval: { sampleCollection: false },
        server: { drainTimeoutMs: 2000 },
        pipelines: [
          {
            name: "agent",
            route: "gpt-test",
            retrieval: { condense: "off" },
            tools: {
              webhooks: [{ name: "create_ticket", description: "Creates a ticket", url: hookUrl, risk: "high", allowPrivate: true, parameters: { type: "object", properties: { title: { type: "string" } }, required: ["title"] } }],
            },
          },
        ],
      }),
    );
    env = { STRATUM_APPROVALS_PG: TEST_POSTGRES_URL, STRATUM_API_KEY: ADMIN, STRATUM_DATA_DIR: dir };
    replicas.push(...(await Promise.all([0, 1].map(() => spawnServer(env, ["--config", configFile])))));
  });
  after(async () => {
    for (const r of replicas) r.child.kill("SIGKILL");
    await Promise.all(replicas.map((r) => r.exited));
    upstreams.closeAll();
    await new Promise<void>((r) => hook.close(() => r()));
    await pg?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ask = (url: string, content: string, session: string) =>
    call(url, "POST", "/v1/chat/completions", { model: "agent", messages: [{ role: "user", content }] }, { "x-session-id": session });

  test("suspended on replica A, listed and approved on replica B, racing approvals have one winner", async () => {
    const [a, b] = [replicas[0]!.url, replicas[1]!.url];
    const r = await ask(a, "printer on fire", "s-race");
    assert.equal(r.status, 200, JSON.stringify(r.json) + replicas[0]!.stderr());
    const id = r.json.stratum.approval.id as string;
    const listed = await call(b, "GET", "/v1/approvals");
    assert.ok(listed.json.data.some((x: Json) => x.id === id), "replica B sees replica A's pending approval");

    const before = hookCalls.length;
    const outcomes = await Promise.all([call(a, "POST", `/v1/approvals/${id}/approve`, {}), call(b, "POST", `/v1/approvals/${id}/approve`, {}), call(b, "POST", `/v1/approvals/${id}/deny`, { reason: "no" })]);
    assert.deepEqual(outcomes.map((o) => o.status).sort(), [200, 409, 409]);
    const winner = outcomes.find((o) => o.status === 200)!;
    assert.equal(winner.json.result?.status ?? "completed", "completed");
    const session = await eventually(async () => {
      const s = await call(a, "GET", "/v1/sessions/s-race");
      const lastText = s.json?.messages?.at(-1)?.content ?? "";
      return /Tool said|denied/.test(lastText) ? s : undefined;
    }, 10_000, "the resumed answer in the shared session");
    const decided = (await call(b, "GET", `/v1/approvals/${id}`)).json;
    assert.ok(decided.resumed_at, "resumed");
    if (decided.status === "approved") {
      assert.equal(hookCalls.length, before + 1, "the tool ran exactly once");
      assert.match(session!.json.messages.at(-1).content, /Tool said: .*T-/);
    } else {
      assert.equal(hookCalls.length, before, "denied: the tool never ran");
    }
  });

  test("a decision by `stratum approvals` (PostgreSQL from the config) is resumed once by the replicas' sweepers", async () => {
    const [a, b] = [replicas[0]!.url, replicas[1]!.url];
    const r = await ask(b, "ticket from the cli", "s-cli");
    const id = r.json.stratum.approval.id as string;
    const list = await cli(["approvals", "list", "--json", "--config", configFile], env);
    assert.equal(list.code, 0, list.stderr);
    assert.ok((JSON.parse(list.stdout) as Json[]).some((x) => x.id === id));

    const before = hookCalls.length;
    const approved = await cli(["approvals", "approve", id, "--reason", "ok by ops", "--config", configFile], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /^approved /);
    // Both replicas sweep every 5 s; the store's resume claim lets exactly one run it.
    const resumed = await eventually(async () => (await call(a, "GET", `/v1/approvals/${id}`)).json.resumed_at, 20_000, "a sweeper to resume the run");
    assert.ok(resumed);
    await eventually(async () => /Tool said/.test((await call(a, "GET", "/v1/sessions/s-cli")).json.messages.at(-1)?.content ?? ""), 10_000, "the answer in the session");
    assert.equal(hookCalls.length, before + 1, "exactly once across both replicas");
    const again = await cli(["approvals", "deny", id, "--reason", "late", "--config", configFile], env);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already approved/);
    const audit = await call(b, "GET", "/v1/approvals/audit");
    const entry = audit.json.data.find((e: Json) => e.id === id);
    assert.equal(entry.reason, "ok by ops");
    assert.match(entry.decided_by, /^cli/);
  });
});
