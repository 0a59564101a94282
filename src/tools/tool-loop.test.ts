import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../data/index.js";
import type { AssistantMessage, ChatMessage } from "../protocol/openai.js";
import { ToolRegistry } from "./registry.js";
import { SqliteApprovalStore } from "./sqlite/approval-store.js";
import { ToolLoop, type CompleteFn, type CompleteResult, type ToolLoopOptions } from "./tool-loop.js";
import type { Tool } from "./types.js";

type Step = (messages: ChatMessage[]) => AssistantMessage | CompleteResult;

/** A scripted model: each call runs the next step; records what it saw. */
function scripted(steps: Step[]) {
  const seen: ChatMessage[][] = [];
  let i = 0;
  const complete: CompleteFn = async (messages) => {
    seen.push(structuredClone(messages));
    const step = steps[i++];
    if (!step) throw new Error(`model called more than the ${steps.length} scripted times`);
    const out = step(messages);
    return "message" in out ? out : { message: out };
  };
  return { complete, seen, calls: () => i };
}

let callSeq = 0;
const toolCall = (name: string, args: unknown) => ({
  role: "assistant" as const,
  content: null,
  tool_calls: [{ id: `call_${++callSeq}`, type: "function" as const, function: { name, arguments: typeof args === "string" ? args : JSON.stringify(args) } }],
});
const answer = (text: string): AssistantMessage => ({ role: "assistant", content: text });
const lastTool = (m: ChatMessage[]) => {
  const t = [...m].reverse().find((x) => x.role === "tool");
  return t ? String(t.content) : "";
};

function tools(log: string[] = []) {
  const add: Tool = {
    definition: {
      name: "add", description: "adds", risk: "low",
      parameters: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } }, required: ["a", "b"], additionalProperties: false },
    },
    run: async (a) => {
      const { a: x, b: y } = a as { a: number; b: number };
      log.push(`add ${x} ${y}`);
      return { sum: x + y };
    },
  };
  const weather: Tool = {
    definition: { name: "weather", description: "weather", risk: "medium", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
    run: async (a) => {
      log.push(`weather ${(a as { city: string }).city}`);
      return "sunny, 21C";
    },
  };
  const sendEmail: Tool = {
    definition: {
      name: "send_email", description: "sends an email", risk: "high",
      parameters: { type: "object", properties: { to: { type: "string" }, body: { type: "string" } }, required: ["to", "body"], additionalProperties: false },
    },
    run: async (a) => {
      log.push(`send_email ${(a as { to: string }).to}`);
      return { sent: true };
    },
  };
  return new ToolRegistry([add, weather, sendEmail]);
}

function setup(steps: Step[], over: Partial<ToolLoopOptions> = {}, db = openDatabase(":memory:")) {
  const log: string[] = [];
  const now = { t: 1_000_000 };
  const model = scripted(steps);
  const store = new SqliteApprovalStore(db, { clock: () => now.t });
  const loop = new ToolLoop({
    complete: model.complete,
    registry: tools(log),
    store,
    budgets: { maxSteps: 8, maxMs: 10_000 },
    clock: () => now.t,
    approvalTtlMs: 60_000,
    ...over,
  });
  return { loop, store, log, model, now, db };
}

const user = (text: string): ChatMessage[] => [{ role: "user", content: text }];

describe("ToolLoop", () => {
  it("runs multi-step tool use to a final answer", async () => {
    const { loop, log, model } = setup([
      () => toolCall("add", { a: 2, b: 3 }),
      (m) => {
        assert.equal(lastTool(m), '{"sum":5}');
        return toolCall("weather", { city: "Oslo" });
      },
      (m) => {
        assert.equal(lastTool(m), "sunny, 21C");
        return answer("5, and sunny in Oslo");
      },
    ]);
    const res = await loop.run({ tenant: "t", messages: user("add 2+3 and weather in Oslo") });
    assert.equal(res.status, "completed");
    assert.ok(res.status === "completed");
    assert.equal(res.message.content, "5, and sunny in Oslo");
    assert.deepEqual(log, ["add 2 3", "weather Oslo"]);
    assert.equal(res.usage.steps, 3);
    assert.deepEqual(res.messages.map((m) => m.role), ["user", "assistant", "tool", "assistant", "tool", "assistant"]);
    assert.equal(model.calls(), 3);
    assert.equal(res.toolResults.length, 2);
  });

  it("runs several calls of one turn in order, each answered by tool_call_id", async () => {
    const { loop } = setup([
      () => ({
        role: "assistant", content: null,
        tool_calls: [
          { id: "c1", type: "function", function: { name: "add", arguments: '{"a":1,"b":1}' } },
          { id: "c2", type: "function", function: { name: "add", arguments: '{"a":2,"b":2}' } },
        ],
      }),
      (m) => {
        const toolsMsgs = m.filter((x) => x.role === "tool") as Array<{ tool_call_id: string; content: string }>;
        assert.deepEqual(toolsMsgs.map((t) => [t.tool_call_id, t.content]), [["c1", '{"sum":2}'], ["c2", '{"sum":4}']]);
        return answer("2 and 4");
      },
    ]);
    const res = await loop.run({ tenant: "t", messages: user("x") });
    assert.equal(res.status, "completed");
  });

  it("feeds invalid arguments, bad JSON and unknown tools back to the model as tool errors", async () => {
    const { loop, log } = setup([
      () => toolCall("add", { a: "two", b: 3 }),
      (m) => {
        const t = JSON.parse(lastTool(m)) as { error: { code: string; message: string } };
        assert.equal(t.error.code, "invalid_arguments");
        assert.match(t.error.message, /\/a: must be number/);
        return toolCall("add", "{not json");
      },
      (m) => {
        assert.match(lastTool(m), /not valid JSON/);
        return toolCall("delete_everything", {});
      },
      (m) => {
        assert.match(lastTool(m), /unknown_tool.*unknown tool \\"delete_everything\\"/);
        return toolCall("send_email", { to: 42 }); // high risk but invalid: no approval, straight back
      },
      (m) => {
        assert.match(lastTool(m), /invalid_arguments/);
        return toolCall("add", { a: 2, b: 3 });
      },
      () => answer("5"),
    ]);
    const res = await loop.run({ tenant: "t", messages: user("add") });
    assert.equal(res.status, "completed");
    assert.deepEqual(log, ["add 2 3"]);
  });

  it("fails clearly when the step budget runs out (no partial answer)", async () => {
    const forever: Step = () => toolCall("add", { a: 1, b: 1 });
    const { loop } = setup([forever, forever, forever, forever], { budgets: { maxSteps: 3, maxMs: 10_000 } });
    const res = await loop.run({ tenant: "t", messages: user("loop") });
    assert.equal(res.status, "failed");
    assert.ok(res.status === "failed");
    assert.equal(res.error.code, "max_steps");
    assert.match(res.error.message, /step budget of 3/);
    assert.equal(res.usage.steps, 3);
    assert.equal("message" in res, false);
  });

  it("fails clearly when the cost budget runs out", async () => {
    const costly: Step = () => ({ message: toolCall("add", { a: 1, b: 1 }), costUsd: 0.01 });
    const { loop, model } = setup([costly, costly, costly], { budgets: { maxSteps: 10, maxMs: 10_000, maxCostUsd: 0.015 } });
    const res = await loop.run({ tenant: "t", messages: user("spend") });
    assert.ok(res.status === "failed");
    assert.equal(res.error.code, "max_cost");
    assert.equal(model.calls(), 2);
  });

  it("fails clearly when the time budget runs out during a model call", async () => {
    const store = new SqliteApprovalStore(openDatabase(":memory:"));
    const slow: CompleteFn = (_m, _t, { signal }) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(() => resolve({ message: answer("too late") }), 2_000);
        signal.addEventListener("abort", () => {
          clearTimeout(t);
          reject(signal.reason);
        });
      });
    const loop = new ToolLoop({ complete: slow, registry: tools(), store, budgets: { maxSteps: 5, maxMs: 50 } });
    const res = await loop.run({ tenant: "t", messages: user("slow") });
    assert.ok(res.status === "failed");
    assert.equal(res.error.code, "max_time");
  });

  it("rethrows model errors that are not budget related", async () => {
    const store = new SqliteApprovalStore(openDatabase(":memory:"));
    const loop = new ToolLoop({ complete: async () => { throw new Error("upstream down"); }, registry: tools(), store, budgets: { maxSteps: 5, maxMs: 5_000 } });
    await assert.rejects(loop.run({ tenant: "t", messages: user("x") }), /upstream down/);
  });

  it("medium risk runs without approval at the default threshold; threshold low makes it wait", async () => {
    const a = setup([() => toolCall("weather", { city: "Rome" }), () => answer("ok")]);
    assert.equal((await a.loop.run({ tenant: "t", messages: user("w") })).status, "completed");
    const b = setup([() => toolCall("weather", { city: "Rome" }), () => answer("ok")], { approvalThreshold: "low" });
    const res = await b.loop.run({ tenant: "t", messages: user("w") });
    assert.equal(res.status, "pending");
    assert.deepEqual(b.log, []);
  });

  it("suspends a high-risk call, persists it, and resumes after approval", async () => {
    const { loop, store, log, model, now } = setup([
      () => toolCall("send_email", { to: "boss@example.com", body: "raise?" }),
      (m) => {
        assert.equal(lastTool(m), '{"sent":true}');
        return answer("Email sent.");
      },
    ]);
    const res = await loop.run({ tenant: "acme", messages: user("email my boss") });
    assert.ok(res.status === "pending");
    assert.equal(res.tool, "send_email");
    assert.deepEqual(log, [], "the tool does not run before approval");
    const stored = await store.get(res.approvalId, "acme");
    assert.equal(stored?.status, "pending");
    assert.deepEqual(stored?.arguments, { to: "boss@example.com", body: "raise?" });
    assert.deepEqual(stored?.state, res.state, "the state is persisted in the approval row");
    assert.deepEqual((await store.listPending("acme")).map((r) => r.id), [res.approvalId]);

    // Still undecided: resume reports pending again, nothing runs.
    assert.equal((await loop.resume(res.approvalId)).status, "pending");
    assert.equal(model.calls(), 1);

    now.t += 5_000;
    const d = await store.decide(res.approvalId, "acme", { approve: true, by: "alice", reason: "fine" });
    assert.equal(d.ok, true);
    const done = await loop.resume(res.approvalId, { tenant: "acme" });
    assert.ok(done.status === "completed");
    assert.equal(done.message.content, "Email sent.");
    assert.deepEqual(log, ["send_email boss@example.com"]);
    assert.deepEqual(done.messages.map((m) => m.role), ["user", "assistant", "tool", "assistant"]);

    await assert.rejects(loop.resume(res.approvalId), /already resumed/);
    assert.deepEqual(log, ["send_email boss@example.com"], "a second resume never re-runs the tool");

    const audit = await store.audit("acme");
    assert.equal(audit.length, 1);
    assert.deepEqual(
      { status: audit[0]!.status, by: audit[0]!.decidedBy, at: audit[0]!.decidedAt, args: audit[0]!.arguments, tool: audit[0]!.tool, reason: audit[0]!.reason, run: audit[0]!.runId },
      { status: "approved", by: "alice", at: 1_005_000, args: { to: "boss@example.com", body: "raise?" }, tool: "send_email", reason: "fine", run: res.runId },
    );
  });

  it("a denial with a reason reaches the model, the tool never runs", async () => {
    const { loop, store, log } = setup([
      () => toolCall("send_email", { to: "all@example.com", body: "party" }),
      (m) => {
        const t = JSON.parse(lastTool(m)) as { error: { code: string; status: string; message: string } };
        assert.equal(t.error.code, "denied");
        assert.equal(t.error.status, "denied");
        assert.match(t.error.message, /denied this call \(bob\): not to the whole company/);
        return answer("I was not allowed to send that email.");
      },
    ]);
    const res = await loop.run({ tenant: "acme", messages: user("email everyone") });
    assert.ok(res.status === "pending");
    await store.decide(res.approvalId, "acme", { approve: false, by: "bob", reason: "not to the whole company" });
    const done = await loop.resume(res.approvalId);
    assert.ok(done.status === "completed");
    assert.equal(done.message.content, "I was not allowed to send that email.");
    assert.deepEqual(log, []);
    const audit = await store.audit("acme");
    assert.deepEqual(audit.map((e) => [e.status, e.decidedBy, e.reason]), [["denied", "bob", "not to the whole company"]]);
  });

  it("an approval that times out expires and is treated as denied", async () => {
    const { loop, store, log, now } = setup([
      () => toolCall("send_email", { to: "x@example.com", body: "b" }),
      (m) => {
        assert.match(lastTool(m), /"status":"expired".*expired/);
        return answer("Nobody approved it in time.");
      },
    ]);
    const res = await loop.run({ tenant: "acme", messages: user("email") });
    assert.ok(res.status === "pending");
    assert.equal(res.expiresAt, 1_000_000 + 60_000);
    now.t += 60_001;
    const late = await store.decide(res.approvalId, "acme", { approve: true, by: "alice" });
    assert.equal(late.ok ? null : late.error, "expired");
    const done = await loop.resume(res.approvalId);
    assert.ok(done.status === "completed");
    assert.deepEqual(log, []);
    const audit = await store.audit("acme");
    assert.deepEqual(audit.map((e) => [e.status, e.decidedBy]), [["expired", "system"]]);
  });

  it("resume expires an overdue, never-decided approval by itself", async () => {
    const { loop, store, now } = setup([
      () => toolCall("send_email", { to: "x@example.com", body: "b" }),
      (m) => {
        assert.match(lastTool(m), /expired/);
        return answer("expired");
      },
    ]);
    const res = await loop.run({ tenant: "acme", messages: user("email") });
    assert.ok(res.status === "pending");
    now.t += 120_000;
    const done = await loop.resume(res.approvalId);
    assert.equal(done.status, "completed");
    assert.equal((await store.get(res.approvalId))?.status, "expired");
  });

  it("continues the rest of the turn after the approved call, and can suspend again", async () => {
    const { loop, store, log } = setup([
      () => ({
        role: "assistant", content: null,
        tool_calls: [
          { id: "e1", type: "function", function: { name: "send_email", arguments: '{"to":"a@example.com","body":"1"}' } },
          { id: "s1", type: "function", function: { name: "add", arguments: '{"a":1,"b":2}' } },
          { id: "e2", type: "function", function: { name: "send_email", arguments: '{"to":"b@example.com","body":"2"}' } },
        ],
      }),
      (m) => {
        const ids = (m.filter((x) => x.role === "tool") as Array<{ tool_call_id: string }>).map((t) => t.tool_call_id);
        assert.deepEqual(ids, ["e1", "s1", "e2"]);
        return answer("done");
      },
    ]);
    const first = await loop.run({ tenant: "acme", messages: user("two emails") });
    assert.ok(first.status === "pending");
    await store.decide(first.approvalId, "acme", { approve: true, by: "alice" });
    const second = await loop.resume(first.approvalId);
    assert.ok(second.status === "pending");
    assert.notEqual(second.approvalId, first.approvalId);
    assert.equal(second.runId, first.runId);
    assert.deepEqual(log, ["send_email a@example.com", "add 1 2"]);
    await store.decide(second.approvalId, "acme", { approve: false, by: "carol", reason: "one is enough" });
    const done = await loop.resume(second.approvalId);
    assert.equal(done.status, "completed");
    assert.deepEqual(log, ["send_email a@example.com", "add 1 2"]);
    assert.deepEqual((await store.audit("acme")).map((e) => [e.status, e.decidedBy]), [["approved", "alice"], ["denied", "carol"]]);
  });

  it("budgets carry across a resume", async () => {
    const { loop, store } = setup(
      [() => toolCall("send_email", { to: "a@example.com", body: "1" }), () => toolCall("add", { a: 1, b: 1 }), () => answer("never")],
      { budgets: { maxSteps: 2, maxMs: 10_000 } },
    );
    const res = await loop.run({ tenant: "acme", messages: user("x") });
    assert.ok(res.status === "pending");
    assert.equal(res.state.usage.steps, 1);
    await store.decide(res.approvalId, "acme", { approve: true, by: "alice" });
    const done = await loop.resume(res.approvalId);
    assert.ok(done.status === "failed");
    assert.equal(done.error.code, "max_steps");
  });

  it("refuses unknown approvals and other tenants' approvals", async () => {
    const { loop, store } = setup([() => toolCall("send_email", { to: "a@example.com", body: "1" })]);
    await assert.rejects(loop.resume("nope"), /not found/);
    const res = await loop.run({ tenant: "acme", messages: user("x") });
    assert.ok(res.status === "pending");
    await store.decide(res.approvalId, "acme", { approve: true, by: "alice" });
    await assert.rejects(loop.resume(res.approvalId, { tenant: "intruder" }), /not found/);
  });

  it("resumes after a restart: new store and loop on the same SQLite file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratum-toolloop-"));
    const file = join(dir, "stratum.db");
    try {
      const first = setup([() => toolCall("send_email", { to: "ceo@example.com", body: "hello" })], {}, openDatabase(file));
      const res = await first.loop.run({ tenant: "acme", messages: [{ role: "system", content: "be brief" }, ...user("email the ceo")] });
      assert.ok(res.status === "pending");
      first.db.close(); // "process exits"

      const second = setup(
        [
          (m) => {
            assert.deepEqual(m.slice(0, 2), [{ role: "system", content: "be brief" }, { role: "user", content: "email the ceo" }]);
            assert.equal(lastTool(m), '{"sent":true}');
            return answer("Sent to the CEO.");
          },
        ],
        {},
        openDatabase(file),
      );
      assert.deepEqual((await second.store.listPending("acme", 1_000_001)).map((r) => r.id), [res.approvalId]);
      await second.store.decide(res.approvalId, "acme", { approve: true, by: "dana" });
      const done = await second.loop.resume(res.approvalId);
      assert.ok(done.status === "completed");
      assert.equal(done.message.content, "Sent to the CEO.");
      assert.equal(done.runId, res.runId);
      assert.deepEqual(second.log, ["send_email ceo@example.com"]);
      assert.deepEqual(first.log, []);
      second.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
