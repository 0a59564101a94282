// The contract every RolloutStore passes (run on SQLite and PostgreSQL by
// store.test.ts).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { isStratumError } from "../core/errors.js";
import { DEFAULT_THRESHOLDS, type NewRollout, type RolloutStore } from "./types.js";

const rollout = (id: string, pipeline = "assistant"): NewRollout => ({
  id,
  pipeline,
  alias: "production",
  strategy: "canary",
  fromVersion: 1,
  toVersion: 2,
  status: "running",
  stepIndex: 0,
  steps: [5, 25, 100],
  hold: { requests: 10 },
  thresholds: DEFAULT_THRESHOLDS,
  startedAt: 1_000,
  createdBy: "k1",
});
const log = (event: string) => ({ at: 2_000, event, message: `${event} happened`, numbers: { n: 1, nested: { ok: true } } });

export function rolloutStoreContract(label: string, make: () => Promise<RolloutStore>): void {
  describe(`RolloutStore contract: ${label}`, () => {
    test("creates, reads back, and allows one running rollout per pipeline", async () => {
      const s = await make();
      const r = await s.create(rollout("r1"), log("started"));
      assert.equal(r.status, "running");
      assert.deepEqual(r.steps, [5, 25, 100]);
      assert.deepEqual(r.hold, { requests: 10 });
      assert.deepEqual(r.thresholds, DEFAULT_THRESHOLDS);
      assert.equal(r.stepStartedAt, 1_000);
      assert.deepEqual(r.log, [log("started")]);
      await assert.rejects(s.create(rollout("r2"), log("started")), (e) => isStratumError(e) && e.kind === "InvalidRequest" && e.code === "rollout_in_progress");
      await s.create(rollout("r3", "other"), log("started"));
      assert.equal((await s.running("assistant"))?.id, "r1");
      assert.equal(await s.running("nope"), undefined);
      assert.deepEqual((await s.list({ pipeline: "assistant" })).map((x) => x.id), ["r1"]);
      assert.equal((await s.list({ status: "running" })).length, 2);
      assert.equal(await s.get("missing"), undefined);
    });

    test("updates are compare-and-set on status and step, and append to the log", async () => {
      const s = await make();
      await s.create(rollout("u1"), log("started"));
      const stepped = await s.update("u1", { status: "running", stepIndex: 0 }, { stepIndex: 1, stepStartedAt: 5_000 }, [log("step")]);
      assert.equal(stepped?.stepIndex, 1);
      assert.equal(stepped?.stepStartedAt, 5_000);
      assert.equal(await s.update("u1", { status: "running", stepIndex: 0 }, { stepIndex: 2 }, [log("late")]), undefined, "a stale expectation changes nothing");
      const done = await s.update("u1", { status: "running", stepIndex: 1 }, { status: "rolled_back" }, [log("auto_rollback")]);
      assert.equal(done?.status, "rolled_back");
      assert.deepEqual(done?.log.map((l) => l.event), ["started", "step", "auto_rollback"]);
      assert.equal(await s.running("assistant"), undefined);
      await s.create(rollout("u2"), log("started")); // the pipeline is free again
      await s.appendLog("u2", log("note"));
      assert.deepEqual((await s.get("u2"))?.log.map((l) => l.event), ["started", "note"]);
    });

    test("stats per side: requests, errors, blocks, nearest-rank p95, eval means; per-step counts", async () => {
      const s = await make();
      await s.create(rollout("s1"), log("started"));
      for (let i = 1; i <= 20; i++) await s.recordSample("s1", { side: "candidate", step: i <= 5 ? 0 : 1, at: i, latencyMs: i * 10, error: i % 5 === 0, blocked: i === 1 });
      await s.recordSample("s1", { side: "baseline", step: 0, at: 1, latencyMs: 7, error: false, blocked: false });
      await s.recordScore("s1", "candidate", "groundedness", 0.5);
      await s.recordScore("s1", "candidate", "groundedness", 1);
      const c = await s.stats("s1", "candidate");
      assert.deepEqual(c, { requests: 20, errors: 4, error_rate: 0.2, p95_ms: 190, guardrail_blocks: 1, block_rate: 0.05, eval: { groundedness: 0.75 } });
      assert.deepEqual(await s.stats("s1", "baseline"), { requests: 1, errors: 0, error_rate: 0, p95_ms: 7, guardrail_blocks: 0, block_rate: 0, eval: {} });
      assert.equal(await s.stepRequests("s1", "candidate", 0), 5);
      assert.equal(await s.stepRequests("s1", "candidate", 1), 15);
      assert.deepEqual(await s.stats("none", "candidate"), { requests: 0, errors: 0, error_rate: 0, p95_ms: 0, guardrail_blocks: 0, block_rate: 0, eval: {} });
    });

    test("shadow comparisons are stored and listed newest first", async () => {
      const s = await make();
      await s.create(rollout("sh"), log("started"));
      for (let i = 0; i < 3; i++) {
        await s.addShadow("sh", { at: i, requestId: `q${i}`, baseline: { latencyMs: 5, costUsd: 0, text: "a b" }, candidate: { latencyMs: 9, costUsd: 0.001, text: "a c", ...(i === 2 ? { error: "boom" } : {}) }, metrics: { token_f1: 0.5 } });
      }
      const got = await s.shadows("sh", 2);
      assert.deepEqual(got.map((c) => c.requestId), ["q2", "q1"]);
      assert.equal(got[0]!.candidate.error, "boom");
      assert.deepEqual(got[1]!.metrics, { token_f1: 0.5 });
    });
  });
}
