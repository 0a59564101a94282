// ShadowRunner with pipelines that answer, throw and hang: a comparison is
// stored for each, a hanging candidate is cut off by the timeout (its slot is
// freed), and mirrors beyond the concurrency bound are skipped, not queued.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase } from "../data/index.js";
import { createLogger } from "../ops/index.js";
import type { Served } from "../models/index.js";
import type { ChatCompletion, ChatRequest } from "../protocol/openai.js";
import type { Pipeline, TurnContext } from "../pipelines/index.js";
import { RegistryService, SqliteRegistryStore } from "../registry/index.js";
import { RolloutService, ShadowRunner, SqliteRolloutStore, type Rollout } from "./index.js";

function answering(text: string): Pipeline {
  return {
    name: "p",
    async complete(): Promise<Served<ChatCompletion>> {
      const result: ChatCompletion = { id: "c", object: "chat.completion", created: 0, model: "p", choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }] } as ChatCompletion;
      return { result, servedBy: "r", deployment: "d", priceKey: undefined, attempts: [], cache: "bypass" };
    },
    stream: () => Promise.reject(new Error("not used")),
  };
}
const throwing: Pipeline = { name: "p", complete: () => Promise.reject(new Error("candidate exploded")), stream: () => Promise.reject(new Error("not used")) };
const hanging: Pipeline = { name: "p", complete: () => new Promise(() => {}), stream: () => new Promise(() => {}) };

async function setup(opts: { timeoutMs?: number; maxConcurrent?: number } = {}) {
  const db = openDatabase(":memory:");
  const registry = new RegistryService(new SqliteRegistryStore(db));
  await registry.addVersion("pipeline", "p", { spec: { route: "extractive" }, createdBy: "t" });
  await registry.addVersion("pipeline", "p", { spec: { route: "sim" }, createdBy: "t" });
  await registry.setAlias("pipeline", "p", "production", 1);
  const rollouts = new RolloutService(registry, new SqliteRolloutStore(db), createLogger("silent"));
  const rollout = await rollouts.start({ pipeline: "p", strategy: "shadow", toVersion: 2, createdBy: "t" });
  const runner = new ShadowRunner(rollouts, () => 0, createLogger("silent"), opts);
  return { rollouts, rollout, runner };
}

const req: ChatRequest = { model: "p", messages: [{ role: "user", content: "q" }], stream: true } as ChatRequest;
const ctx: TurnContext = { tenant: "t", requestId: "req-1", signal: new AbortController().signal, sessionId: "s", user: "u" };
const mirror = (rollout: Rollout, candidate: Pipeline) => ({ rollout, candidate, request: req, ctx, live: { latencyMs: 5, error: false, blocked: false, text: "the relay port is 7443", costUsd: 0 } });

describe("ShadowRunner", () => {
  test("stores a comparison for an answering, a throwing and a hanging candidate", async () => {
    const { rollouts, rollout, runner } = await setup({ timeoutMs: 50 });
    runner.mirror(mirror(rollout, answering("the relay port is 7443")));
    runner.mirror(mirror(rollout, throwing));
    runner.mirror(mirror(rollout, hanging));
    // The runner's timeout timer is unref'd (it must not hold a server's exit): keep this test's loop alive.
    const keepAlive = setInterval(() => {}, 1_000);
    await runner.idle();
    clearInterval(keepAlive);
    assert.equal(runner.inFlight, 0, "the hanging candidate's slot is free again");
    const got = await rollouts.store.shadows(rollout.id, 10);
    assert.equal(got.length, 3);
    const ok = got.find((c) => !c.candidate.error)!;
    assert.equal(ok.metrics.exact_match, 1);
    assert.equal(ok.metrics.token_f1, 1);
    assert.equal(ok.requestId, "req-1");
    assert.ok(got.some((c) => c.candidate.error === "candidate exploded"));
    assert.ok(got.some((c) => /no answer within 50 ms/.test(c.candidate.error ?? "")));
    const stats = await rollouts.store.stats(rollout.id, "candidate");
    assert.equal(stats.requests, 3);
    assert.equal(stats.errors, 2);
  });

  test("mirrors beyond the bound are skipped; the mirror gets no session, user or cache", async () => {
    const { rollout, runner } = await setup({ timeoutMs: 1_000, maxConcurrent: 1 });
    let seen: TurnContext | undefined;
    let seenReq: ChatRequest | undefined;
    const spy: Pipeline = {
      name: "p",
      async complete(r, c) {
        seen = c;
        seenReq = r;
        return answering("x").complete(r, c);
      },
      stream: () => Promise.reject(new Error("not used")),
    };
    runner.mirror(mirror(rollout, spy));
    runner.mirror(mirror(rollout, spy));
    assert.equal(runner.skipped, 1);
    await runner.idle();
    assert.equal(seen?.sessionId, undefined);
    assert.equal(seen?.user, undefined);
    assert.equal(seen?.noCache, true);
    assert.equal(seenReq?.stream, false);
  });
});
