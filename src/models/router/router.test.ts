// The router's own guarantees, with in-process providers: a provider that
// ignores its abort signal still cannot hold a request past the router's
// timeouts or past the client's departure; retries stay within each
// deployment's retry budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ModelAliasSchema, RouterSchema } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "../../protocol/openai.js";
import type { ChatProvider } from "../provider.js";
import { RouteTable } from "./route-table.js";
import { Router } from "./router.js";

const never = new Promise<never>(() => {});

/** Takes calls and never answers, whatever its signal says. */
const deaf: ChatProvider = { type: "deaf", chat: () => never, stream: () => never };

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
const quick: ChatProvider = {
  type: "quick",
  chat: async (req) => answer(req.model),
  stream: async (req): Promise<AsyncIterable<ChatCompletionChunk>> =>
    (async function* () {
      yield { id: "c1", object: "chat.completion.chunk", created: 0, model: req.model, choices: [{ index: 0, delta: { content: "fine" }, finish_reason: "stop" }] };
    })(),
};

function router(timeouts: { firstTokenMs: number; totalMs: number }): Router {
  const config = {
    router: RouterSchema.parse({ retry: { maxAttempts: 1 }, timeouts }),
    models: [
      ModelAliasSchema.parse({ name: "deaf", deployments: [{ provider: "deaf" }], fallbacks: ["quick"], extractiveFallback: false }),
      ModelAliasSchema.parse({ name: "quick", deployments: [{ provider: "quick" }], extractiveFallback: false }),
    ],
  };
  return new Router(new RouteTable(config, new Map([["deaf", deaf], ["quick", quick]])));
}

const req: ChatRequest = { model: "deaf", messages: [{ role: "user", content: "hi" }] };
const opts = (signal = new AbortController().signal) => ({ signal, requestId: "r1" });

test("a provider that ignores its signal is cut off by the total timeout, and the fallback answers", async () => {
  const t0 = performance.now();
  const out = await router({ firstTokenMs: 10_000, totalMs: 60 }).chat("deaf", req, opts());
  assert.ok(performance.now() - t0 < 2_000);
  assert.equal(out.alias, "quick");
  assert.deepEqual(out.attempts.map((a) => [a.deployment, a.outcome]), [["deaf/deaf:deaf", "UpstreamTimeout"], ["quick/quick:quick", "success"]]);
});

test("a stream that never starts is cut off by the first-token timeout, and the fallback streams", async () => {
  const out = await router({ firstTokenMs: 60, totalMs: 10_000 }).stream("deaf", { ...req, stream: true }, opts());
  assert.equal(out.alias, "quick");
  assert.match(out.attempts[0]!.message ?? "", /no first token within 60 ms/);
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of out.result) chunks.push(c);
  assert.equal(chunks[0]!.choices[0]!.delta.content, "fine");
});

test("a client that leaves ends the call at once, even while the provider ignores its signal", async () => {
  const client = new AbortController();
  const pending = router({ firstTokenMs: 10_000, totalMs: 10_000 }).chat("deaf", req, opts(client.signal));
  setTimeout(() => client.abort(), 30);
  const t0 = performance.now();
  const err = (await pending.then(() => undefined, (e: unknown) => e)) as StratumError;
  assert.ok(performance.now() - t0 < 2_000);
  assert.equal(err.code, "client_closed");
});

test("clients leaving mid-stream are not the deployment's failures: its circuit stays closed", async () => {
  const chunk = (model: string, content: string, finish: "stop" | null = null): ChatCompletionChunk => ({
    id: "c1", object: "chat.completion.chunk", created: 0, model, choices: [{ index: 0, delta: { content }, finish_reason: finish }],
  });
  // First chunk at once, the rest after 40 ms unless the call is aborted first.
  const slow: ChatProvider = {
    type: "slow",
    chat: never as never,
    stream: async (r, ctx) => {
      let sent = 0;
      return {
        [Symbol.asyncIterator]: () => ({
          next: () => {
            sent++;
            if (sent === 1) return Promise.resolve({ done: false as const, value: chunk(r.model, "a") });
            if (sent > 2) return Promise.resolve({ done: true as const, value: undefined });
            return new Promise<IteratorResult<ChatCompletionChunk>>((resolve, reject) => {
              const t = setTimeout(() => resolve({ done: false, value: chunk(r.model, "b", "stop") }), 40);
              ctx.onAbort((reason) => {
                clearTimeout(t);
                reject(reason instanceof Error ? reason : new Error(String(reason)));
              });
            });
          },
        }),
      };
    },
  };
  const attempts: Array<[string, string]> = [];
  const config = {
    router: RouterSchema.parse({ retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 2 } }),
    models: [
      ModelAliasSchema.parse({ name: "slow", deployments: [{ provider: "slow" }], fallbacks: ["quick"], extractiveFallback: false }),
      ModelAliasSchema.parse({ name: "quick", deployments: [{ provider: "quick" }], extractiveFallback: false }),
    ],
  };
  const r = new Router(new RouteTable(config, new Map([["slow", slow], ["quick", quick]])), { onAttempt: (a) => attempts.push([a.deployment, a.outcome]) });
  const sreq: ChatRequest = { model: "slow", messages: [{ role: "user", content: "hi" }], stream: true };

  for (let i = 0; i < 5; i++) {
    const client = new AbortController();
    const out = await r.stream("slow", sreq, opts(client.signal));
    const it = out.result[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.choices[0]?.delta.content, "a");
    const next = it.next(); // waits for the upstream's second chunk...
    client.abort(); // ...when the client leaves
    const err = (await next.then(() => undefined, (e: unknown) => e)) as StratumError;
    assert.equal(err.code, "client_closed");
  }
  assert.ok(attempts.every(([, outcome]) => outcome === "success"), JSON.stringify(attempts));

  const out = await r.stream("slow", sreq, opts());
  assert.equal(out.alias, "slow", "the deployment still serves: its circuit did not open");
  const text: string[] = [];
  for await (const c of out.result) text.push(c.choices[0]?.delta.content ?? "");
  assert.equal(text.join(""), "ab");
});

// The retry budget at work: a burst of failures gets only the budget's retries and moves on; a lone
// request still gets all of its retries.
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

function routerFor(provider: ChatProvider, budget: { percent?: number; minPerSecond?: number }, maxAttempts = 3) {
  const config = {
    // A breaker that never opens here: the budget alone decides.
    router: RouterSchema.parse({ retry: { maxAttempts, baseMs: 1, capMs: 2, budget }, circuitBreaker: { failureThreshold: 1000 } }),
    models: [ModelAliasSchema.parse({ name: "flaky", deployments: [{ provider: "flaky" }], extractiveFallback: false })],
  };
  const decisions: boolean[] = [];
  const table = new RouteTable(config, new Map([["flaky", provider]]));
  return { router: new Router(table, { onRetry: (_d, granted) => decisions.push(granted) }), decisions };
}

const flakyReq: ChatRequest = { model: "flaky", messages: [{ role: "user", content: "hi" }] };

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), "condition not reached");
}

test("a burst of failures gets only the budget's retries; the rest fail at once and say why", async () => {
  const up = flakyProvider();
  const { router, decisions } = routerFor(up.provider, { percent: 20, minPerSecond: 0 });
  const calls = Array.from({ length: 10 }, () => router.chat("flaky", flakyReq, opts()));
  await until(() => up.held.length === 10);
  up.failAll(); // all 10 first attempts fail together; retries would now succeed
  const results = await Promise.allSettled(calls);

  const ok = results.filter((r) => r.status === "fulfilled");
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assert.equal(ok.length, 2, "20 % of 10 requests may retry");
  assert.equal(up.state.calls, 12, "10 first attempts and 2 retries, not 30");
  assert.equal(decisions.filter((g) => g).length, 2);
  assert.equal(decisions.filter((g) => !g).length, 8);
  for (const f of failed) {
    const err = f.reason as StratumError;
    assert.equal(err.kind, "AllRoutesFailed");
    assert.match(err.message, /503 \(upstream flaky returned 503 \(not retried: the deployment's retry budget is spent\)\)/);
    assert.equal(err.attempts?.[0]?.kind, "UpstreamError", "the real cause stays the attempt's kind");
  }
});

test("a lone request gets all its retries under the default budget", async () => {
  let calls = 0;
  const twiceFailing: ChatProvider = {
    type: "flaky",
    chat: (r) => (++calls <= 2 ? Promise.reject(unavailable()) : Promise.resolve(answer(r.model))),
    stream: () => Promise.reject(new Error("not used")),
  };
  const { router, decisions } = routerFor(twiceFailing, {});
  const out = await router.chat("flaky", flakyReq, opts());
  assert.equal(calls, 3);
  assert.deepEqual(out.attempts.map((a) => a.outcome), ["UpstreamError", "UpstreamError", "success"]);
  assert.deepEqual(decisions, [true, true], "the default floor (10 a second) covers a lone request's retries");
});

test("a failure not worth a retry asks nothing of the budget", async () => {
  const badRequest: ChatProvider = {
    type: "flaky",
    chat: () => Promise.reject(new StratumError("UpstreamError", "upstream flaky returned 400", { upstreamStatus: 400 })),
    stream: () => Promise.reject(new Error("not used")),
  };
  const { router, decisions } = routerFor(badRequest, { percent: 0, minPerSecond: 0 });
  const err = (await router.chat("flaky", flakyReq, opts()).then(() => undefined, (e: unknown) => e)) as StratumError;
  assert.equal(err.upstreamStatus, 400);
  assert.doesNotMatch(err.message, /retry budget/);
  assert.deepEqual(decisions, []);
});
