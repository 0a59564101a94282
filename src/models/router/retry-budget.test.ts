// The retry budget alone, then through the router with in-process providers:
// a burst of failures gets only the budget's retries and moves on; a lone
// request still gets all of its retries; slots come back.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelAliasSchema, RouterSchema } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import type { ChatCompletion, ChatRequest } from "../../protocol/openai.js";
import type { ChatProvider } from "../provider.js";
import { RetryBudget } from "./retry-budget.js";
import { RouteTable } from "./route-table.js";
import { Router } from "./router.js";

test("retries in flight are bounded by a share of the active requests, and never below the minimum", () => {
  const b = new RetryBudget({ percent: 20, minConcurrent: 1 });
  for (let i = 0; i < 10; i++) b.enter();
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), true, "20 % of 10 active requests: 2 retries");
  assert.equal(b.tryRetry(), false);
  b.retryDone();
  assert.equal(b.tryRetry(), true, "a settled retry gives its slot back");
  for (let i = 0; i < 9; i++) b.leave();
  b.retryDone();
  b.retryDone();
  assert.equal(b.tryRetry(), true, "one active request: the minimum of 1 still lets it retry");
  assert.equal(b.tryRetry(), false);
  assert.deepEqual(b.load, { active: 1, retrying: 1 });
});

test("a zero budget allows no retry; counts never go below zero", () => {
  const b = new RetryBudget({ percent: 0, minConcurrent: 0 });
  b.enter();
  assert.equal(b.tryRetry(), false);
  b.leave();
  b.leave();
  b.retryDone();
  assert.deepEqual(b.load, { active: 0, retrying: 0 });
});

function answer(model: string): ChatCompletion {
  return {
    id: "c1",
    object: "chat.completion",
    created: 0,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: "fine" }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

const unavailable = () => new StratumError("UpstreamError", "upstream flaky returned 503", { upstreamStatus: 503, retryable: true });

/** Calls wait until the test fails them (`failAll`) while `holding`; after that, they answer at once. */
function flakyProvider() {
  const held: Array<() => void> = [];
  const state = { calls: 0, holding: true };
  const provider: ChatProvider = {
    type: "flaky",
    chat: (r) => {
      state.calls++;
      if (!state.holding) return Promise.resolve(answer(r.model));
      return new Promise<ChatCompletion>((_, reject) => held.push(() => reject(unavailable())));
    },
    stream: () => Promise.reject(new Error("not used")),
  };
  return {
    provider,
    state,
    held,
    failAll() {
      state.holding = false;
      for (const fail of held.splice(0)) fail();
    },
  };
}

function routerFor(provider: ChatProvider, budget: { percent?: number; minConcurrent?: number }, maxAttempts = 3) {
  const config = {
    // A breaker that never opens here: the budget alone decides.
    router: RouterSchema.parse({ retry: { maxAttempts, baseMs: 1, capMs: 2, budget }, circuitBreaker: { failureThreshold: 1000 } }),
    models: [ModelAliasSchema.parse({ name: "flaky", deployments: [{ provider: "flaky" }], extractiveFallback: false })],
  };
  const decisions: boolean[] = [];
  const table = new RouteTable(config, new Map([["flaky", provider]]));
  return { router: new Router(table, { onRetry: (_d, granted) => decisions.push(granted) }), decisions, deployment: table.deployments()[0]! };
}

const req: ChatRequest = { model: "flaky", messages: [{ role: "user", content: "hi" }] };
const opts = () => ({ signal: new AbortController().signal, requestId: "r1" });

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), "condition not reached");
}

test("a burst of failures gets only the budget's retries; the rest fail at once and say why", async () => {
  const up = flakyProvider();
  const { router, decisions, deployment } = routerFor(up.provider, { percent: 20, minConcurrent: 1 });
  const calls = Array.from({ length: 10 }, () => router.chat("flaky", req, opts()));
  await until(() => up.held.length === 10);
  up.failAll(); // all 10 first attempts fail together; retries would now succeed
  const results = await Promise.allSettled(calls);

  const ok = results.filter((r) => r.status === "fulfilled");
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.equal(ok.length, 2, "20 % of 10 active requests may retry");
  assert.equal(up.state.calls, 12, "10 first attempts and 2 retries, not 30");
  assert.equal(decisions.filter((g) => g).length, 2);
  assert.equal(decisions.filter((g) => !g).length, 8);
  for (const f of failed) {
    const err = f.reason as StratumError;
    assert.equal(err.kind, "AllRoutesFailed");
    assert.match(err.message, /503 \(upstream flaky returned 503 \(not retried: the deployment's retry budget is spent\)\)/);
    assert.equal(err.attempts?.[0]?.kind, "UpstreamError", "the real cause stays the attempt's kind");
  }
  assert.deepEqual(deployment.retryBudget.load, { active: 0, retrying: 0 }, "every request and retry gave its slot back");
});

test("a lone request gets all its retries under the default budget", async () => {
  let calls = 0;
  const twiceFailing: ChatProvider = {
    type: "flaky",
    chat: (r) => (++calls <= 2 ? Promise.reject(unavailable()) : Promise.resolve(answer(r.model))),
    stream: () => Promise.reject(new Error("not used")),
  };
  const { router, decisions, deployment } = routerFor(twiceFailing, {});
  const out = await router.chat("flaky", req, opts());
  assert.equal(calls, 3);
  assert.deepEqual(out.attempts.map((a) => a.outcome), ["UpstreamError", "UpstreamError", "success"]);
  assert.deepEqual(decisions, [true, true]);
  assert.deepEqual(deployment.retryBudget.load, { active: 0, retrying: 0 });
});

test("a failure not worth a retry asks nothing of the budget", async () => {
  const badRequest: ChatProvider = {
    type: "flaky",
    chat: () => Promise.reject(new StratumError("UpstreamError", "upstream flaky returned 400", { upstreamStatus: 400 })),
    stream: () => Promise.reject(new Error("not used")),
  };
  const { router, decisions, deployment } = routerFor(badRequest, { percent: 0, minConcurrent: 0 });
  const err = (await router.chat("flaky", req, opts()).then(() => undefined, (e: unknown) => e)) as StratumError;
  assert.equal(err.upstreamStatus, 400);
  assert.doesNotMatch(err.message, /retry budget/);
  assert.deepEqual(decisions, []);
  assert.deepEqual(deployment.retryBudget.load, { active: 0, retrying: 0 });
});
