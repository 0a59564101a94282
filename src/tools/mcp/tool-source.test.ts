// MCP tool sources against real MCP servers: the stdio fixture (a child
// process speaking MCP through the SDK's McpServer) and the streamable-HTTP
// fixture on a loopback port. Tools are listed into a ToolRegistry and called
// through it, as the tool loop does.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capturingLogger } from "../../testing/capturing-logger.js";
import { ToolRegistry } from "../registry.js";
import type { ToolResult } from "../types.js";
import { McpToolSource } from "./tool-source.js";
import type { McpServerSpec } from "./types.js";
import { startHttpMcpFixture, type HttpMcpFixture } from "./fixtures/http-server.js";

const STDIO_FIXTURE = new URL("./fixtures/stdio-server.ts", import.meta.url).pathname;

function stdio(name: string, over: Partial<McpServerSpec> = {}, env: Record<string, string> = {}): McpServerSpec {
  return { name, transport: "stdio", command: process.execPath, args: ["--import", "tsx", STDIO_FIXTURE], env, risk: "low", ...over } as McpServerSpec;
}

const logged = () => capturingLogger("debug");

let seq = 0;
async function call(reg: ToolRegistry, name: string, args: unknown): Promise<ToolResult> {
  return reg.execute({ id: `c${++seq}`, name, arguments: args }, { signal: new AbortController().signal, tenant: "t" });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("MCP over stdio", () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-mcp-"));
  const flag = join(dir, "refuse-start");
  const { log, lines } = logged();
  const source = new McpToolSource([stdio("calc", {}, { MCP_FIXTURE_REFUSE_START_FILE: flag }), stdio("ops", { allow: ["wipe", "nonexistent"], risk: "high" })], { log });
  const reg = new ToolRegistry();
  before(async () => {
    source.attach(reg);
    await source.start();
  });
  after(async () => {
    await source.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test("tools are listed as <server>__<tool> with their JSON schema and the declared risk; allow filters", () => {
    const names = reg.definitions().map((d) => d.name).sort();
    assert.deepEqual(names, ["calc__add", "calc__crash", "calc__fail", "calc__sleep", "calc__whoami", "calc__wipe", "ops__wipe"]);
    const add = reg.get("calc__add")!.definition;
    assert.equal(add.description, "Adds two numbers");
    assert.equal(add.risk, "low");
    assert.deepEqual((add.parameters as { required: string[] }).required.sort(), ["a", "b"]);
    assert.equal((add.parameters as { $schema?: string }).$schema, undefined);
    assert.equal(reg.get("ops__wipe")!.definition.risk, "high");
    assert.ok(lines.some((l) => /allowed MCP tools the server does not list/.test(l) && /nonexistent/.test(l)));
    assert.deepEqual(source.status().map((s) => [s.server, s.connected]), [["calc", true], ["ops", true]]);
  });

  test("a call is forwarded and its text comes back; structured content is the value", async () => {
    const r = await call(reg, "calc__add", { a: 2, b: 40 });
    assert.equal(r.ok, true, r.content);
    assert.equal(r.value, "42");
    const w = await call(reg, "ops__wipe", { table: "users" });
    assert.deepEqual(w.value, { wiped: "users" });
  });

  test("arguments are validated against the server's schema before anything is sent", async () => {
    const r = await call(reg, "calc__add", { a: "two", b: 1 });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "invalid_arguments");
    assert.match(r.error!.message, /\/a: must be number/);
    const missing = await call(reg, "calc__add", { a: 1 });
    assert.equal(missing.error?.code, "invalid_arguments");
  });

  test("a tool's own error (isError) is a tool_failed result the model can read", async () => {
    const r = await call(reg, "calc__fail", { why: "no budget" });
    assert.equal(r.ok, false);
    assert.equal(r.error?.code, "tool_failed");
    assert.match(r.error!.message, /reported an error: cannot do that: no budget/);
  });

  test("a per-call timeout ends a slow call without killing the server", async () => {
    const slow = new McpToolSource([stdio("slow", { timeoutMs: 300 })], { log });
    const r2 = new ToolRegistry();
    slow.attach(r2);
    await slow.start();
    try {
      const r = await call(r2, "slow__sleep", { ms: 5_000 });
      assert.equal(r.ok, false);
      assert.equal(r.error?.code, "tool_timeout");
      assert.equal((await call(r2, "slow__add", { a: 1, b: 1 })).value, "2", "the same server still answers");
    } finally {
      await slow.close();
    }
  });

  test("a crashing server is reported cleanly, a server that cannot start too, and the next call reconnects", async () => {
    const pid1 = Number((await call(reg, "calc__whoami", {})).value);
    assert.ok(pid1 > 0);
    const crash = await call(reg, "calc__crash", {});
    assert.equal(crash.ok, false);
    assert.equal(crash.error?.code, "tool_failed");
    assert.match(crash.error!.message, /MCP server "calc": .*(closed|Connection)/i);
    assert.match(crash.error!.message, /crashing on purpose/, "the server's stderr explains the crash");

    writeFileSync(flag, "x"); // the restart fails now
    const down = await call(reg, "calc__add", { a: 1, b: 2 });
    assert.equal(down.ok, false);
    assert.match(down.error!.message, /could not start MCP server "calc".*refusing to start/);

    unlinkSync(flag);
    const back = await call(reg, "calc__add", { a: 1, b: 2 });
    assert.equal(back.ok, true, back.content);
    assert.equal(back.value, "3");
    const pid2 = Number((await call(reg, "calc__whoami", {})).value);
    assert.notEqual(pid2, pid1, "a new process");
    assert.equal(processAlive(pid1), false);
    assert.ok(lines.some((l) => /MCP server closed the connection|connection lost/.test(l)));
  });

  test("close ends the server processes", async () => {
    const s = new McpToolSource([stdio("bye")], { log });
    const r = new ToolRegistry();
    s.attach(r);
    await s.start();
    const pid = Number((await call(r, "bye__whoami", {})).value);
    assert.equal(processAlive(pid), true);
    await s.close();
    for (let i = 0; i < 50 && processAlive(pid); i++) await new Promise((res) => setTimeout(res, 50));
    assert.equal(processAlive(pid), false);
    const after = await call(r, "bye__whoami", {});
    assert.match(after.error!.message, /shut down/);
  });

  test("a server that is down at start is logged, offers no tools, and is registered once it comes up", async () => {
    const d = mkdtempSync(join(tmpdir(), "stratum-mcp-late-"));
    const f = join(d, "refuse");
    writeFileSync(f, "x");
    const late = new McpToolSource([stdio("late", {}, { MCP_FIXTURE_REFUSE_START_FILE: f })], { log, retryMs: { min: 100, max: 200 } });
    const r = new ToolRegistry();
    late.attach(r);
    try {
      await late.start();
      assert.deepEqual(r.definitions(), []);
      assert.match(late.status()[0]!.lastError ?? "", /refusing to start/);
      unlinkSync(f);
      for (let i = 0; i < 200 && !r.has("late__add"); i++) await new Promise((res) => setTimeout(res, 50));
      assert.equal((await call(r, "late__add", { a: 5, b: 5 })).value, "10");
    } finally {
      await late.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("MCP over streamable HTTP", () => {
  let fx: HttpMcpFixture;
  before(async () => {
    fx = await startHttpMcpFixture();
  });
  after(() => fx.close());

  test("lists and calls with headers; output schema'd results come back structured", async () => {
    const { log } = logged();
    const s = new McpToolSource([{ name: "shop", transport: "http", url: fx.url, headers: { authorization: "Bearer t0k" }, allowPrivate: true, risk: "medium" }], { log });
    const r = new ToolRegistry();
    s.attach(r);
    try {
      await s.start();
      assert.deepEqual(r.definitions().map((d) => [d.name, d.risk]), [["shop__lookup_order", "medium"]]);
      const ok = await call(r, "shop__lookup_order", { id: "ORD-7" });
      assert.deepEqual(ok.value, { id: "ORD-7", status: "shipped" });
      const bad = await call(r, "shop__lookup_order", { id: "7; DROP" });
      assert.equal(bad.error?.code, "invalid_arguments", "the server's pattern is enforced before the call");
      assert.ok(fx.seen.length > 0 && fx.seen.every((x) => x.auth === "Bearer t0k"));
    } finally {
      await s.close();
    }
  });

  test("a loopback URL is refused by the SSRF policy unless allowed (as for webhooks)", async () => {
    const { log } = logged();
    const before = fx.seen.length;
    const s = new McpToolSource([{ name: "shop", transport: "http", url: fx.url, risk: "low" }], { log, retryMs: { min: 60_000, max: 60_000 } });
    const r = new ToolRegistry();
    s.attach(r);
    try {
      await s.start();
      assert.deepEqual(r.definitions(), []);
      assert.match(s.status()[0]!.lastError ?? "", /could not start MCP server "shop".*(private|loopback|not allowed|refus)/i);
      assert.equal(fx.seen.length, before, "no request reached the server");
    } finally {
      await s.close();
    }
    const allowed = new McpToolSource([{ name: "shop", transport: "http", url: fx.url, risk: "low", allowAddresses: ["127.0.0.1"] }], { log });
    const r2 = new ToolRegistry();
    allowed.attach(r2);
    try {
      await allowed.start();
      assert.ok(r2.has("shop__lookup_order"), "an explicitly allowed address works");
    } finally {
      await allowed.close();
    }
  });

  test("a server that goes away gives a clean error; when it is back the next call reconnects", async () => {
    const { log } = logged();
    const own = await startHttpMcpFixture();
    const port = new URL(own.url).port;
    const s = new McpToolSource([{ name: "shop", transport: "http", url: own.url, allowPrivate: true, risk: "low" }], { log });
    const r = new ToolRegistry();
    s.attach(r);
    try {
      await s.start();
      assert.equal((await call(r, "shop__lookup_order", { id: "ORD-1" })).ok, true);
      await own.close();
      const down = await call(r, "shop__lookup_order", { id: "ORD-2" });
      assert.equal(down.ok, false);
      assert.equal(down.error?.code, "tool_failed");
      assert.match(down.error!.message, /MCP server "shop"/);
      // The same port again (the URL is in the config).
      const again = await startHttpMcpFixture(Number(port));
      try {
        const back = await call(r, "shop__lookup_order", { id: "ORD-3" });
        assert.equal(back.ok, true, back.content);
      } finally {
        await again.close();
      }
    } finally {
      await s.close();
    }
  });
});
