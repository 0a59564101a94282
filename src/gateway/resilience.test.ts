// Resilience through the whole stack over real HTTP: retries, Retry-After,
// timeouts, circuit breakers, fallback, mid-stream failure, and the error a
// client gets when every route fails. Upstreams are sim-upstream servers.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, postJson, simProvider, startSim, startTestServer, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";
import type { ConfigInput } from "../config/schema.js";

const chat = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content: "hello there" }], ...extra });

/** Two upstreams: `bad` (configured per test) and a healthy `good`; alias `primary` → bad, falling back to `backup` → good. */
async function setup(badOpts: Parameters<typeof startSim>[0], config: Partial<ConfigInput> = {}, primary: Record<string, unknown> = {}) {
  const bad = await startSim(badOpts);
  const good = await startSim();
  const srv = await startTestServer({
    providers: { bad: simProvider(bad), good: simProvider(good) },
    models: [
      { name: "primary", deployments: [{ provider: "bad", model: "m" }], fallbacks: ["backup"], extractiveFallback: false, ...primary },
      { name: "backup", deployments: [{ provider: "good", model: "m" }], extractiveFallback: false },
    ],
    cache: { enabled: false },
    ...config,
  });
  const closeAll = async () => {
    await srv.close();
    await Promise.all([bad.close(), good.close()]);
  };
  return { bad, good, srv, closeAll };
}

const auth = (srv: TestServer) => ({ authorization: `Bearer ${srv.adminKey}` });

describe("retries and fallback", () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups) await c();
  });

  test("500s are retried, then the fallback alias answers", async () => {
    const { bad, good, srv, closeAll } = await setup({ errorRate: 1 }, { router: { retry: { maxAttempts: 3, baseMs: 1, capMs: 5 } } });
    cleanups.push(closeAll);
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-stratum-model"), "backup");
    assert.equal(res.headers.get("x-stratum-attempts"), "4");
    assert.equal(bad.stats().errors, 3, "three attempts at the failing deployment");
    assert.equal(good.stats().chat, 1);
  });

  test("with the deployment's retry budget spent, requests move on to the fallback at once", async () => {
    // A budget of nothing (0 %, no floor) makes the count exact under concurrency; the breaker stays out of it.
    const budget = { percent: 0, minPerSecond: 0 };
    const { bad, good, srv, closeAll } = await setup({ errorRate: 1 }, { router: { retry: { maxAttempts: 3, baseMs: 1, capMs: 5, budget }, circuitBreaker: { failureThreshold: 1000 } } });
    cleanups.push(closeAll);
    const all = await Promise.all(Array.from({ length: 12 }, () => postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv))));
    for (const res of all) {
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-stratum-model"), "backup");
      assert.equal(res.headers.get("x-stratum-attempts"), "2", "one attempt at the failing deployment, then the fallback");
    }
    assert.equal(bad.stats().errors, 12, "no retries: 12 calls, not 36");
    assert.equal(good.stats().chat, 12);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    assert.match(metrics, /stratum_retries_total\{deployment="primary\/bad:m",decision="budget_spent"\} 12/);
  });

  test("a 400 from the upstream is the caller's fault: no retry, no fallback, status passed through", async () => {
    const up = await startSim();
    const good = await startSim();
    // sim-upstream answers 400 to an invalid control header, standing in for any upstream 400.
    const srv = await startTestServer({
      providers: { picky: { ...simProvider(up), headers: { "x-sim-fail": "bogus" } }, good: simProvider(good) },
      models: [
        { name: "primary", deployments: [{ provider: "picky", model: "m" }], fallbacks: ["backup"] },
        { name: "backup", deployments: [{ provider: "good", model: "m" }] },
      ],
      router: { retry: { maxAttempts: 3 } },
      cache: { enabled: false },
    });
    cleanups.push(async () => {
      await srv.close();
      await Promise.all([up.close(), good.close()]);
    });
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
    assert.equal(res.status, 400);
    assert.match(res.json.error.message, /x-sim-fail/);
    assert.equal(up.stats().badRequests, 1, "not retried");
    assert.equal(good.stats().chat, 0, "no fallback");
  });

  test("429 with Retry-After is honoured before retrying", async () => {
    const { bad, srv, closeAll } = await setup({ rateLimitRate: 1, retryAfterSeconds: 1 }, { router: { retry: { maxAttempts: 2, baseMs: 1, capMs: 5 } } });
    cleanups.push(closeAll);
    const t0 = performance.now();
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-stratum-model"), "backup");
    assert.equal(bad.stats().rateLimited, 2);
    assert.ok(elapsed >= 950, `waited for Retry-After (elapsed ${elapsed.toFixed(0)} ms)`);
  });

  test("a Retry-After longer than maxRetryAfterMs skips straight to the next route", async () => {
    const { bad, srv, closeAll } = await setup({ rateLimitRate: 1, retryAfterSeconds: 30 }, { router: { retry: { maxAttempts: 3, maxRetryAfterMs: 2000 } } });
    cleanups.push(closeAll);
    const t0 = performance.now();
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
    assert.equal(res.status, 200);
    assert.equal(bad.stats().rateLimited, 1);
    assert.ok(performance.now() - t0 < 1000);
  });

  test("a hanging upstream times out and the fallback answers (JSON and stream)", async () => {
    const { bad, srv, closeAll } = await setup({ hangRate: 1 }, { router: { retry: { maxAttempts: 1 }, timeouts: { totalMs: 300, firstTokenMs: 200 } } });
    cleanups.push(closeAll);
    const t0 = performance.now();
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
    const elapsed = performance.now() - t0;
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-stratum-model"), "backup");
    assert.ok(elapsed >= 290 && elapsed < 2000, `total timeout fired (${elapsed.toFixed(0)} ms)`);

    const stream = await srv.client().chat.completions.create({ model: "primary", messages: [{ role: "user", content: "hi" }], stream: true });
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
    assert.ok(text.length > 0);
    assert.equal(bad.stats().hangs, 2);
    // The gateway let go of the hung upstream requests.
    await eventually(() => bad.stats().inFlight === 0, 3000, "hung upstream requests released");
  });

  test("a streaming request fails over before the first byte", async () => {
    const { bad, srv, closeAll } = await setup({ errorRate: 1 }, { router: { retry: { maxAttempts: 1 } } });
    cleanups.push(closeAll);
    const res = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { ...auth(srv), "content-type": "application/json" }, body: JSON.stringify(chat("primary", { stream: true })) });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-stratum-model"), "backup");
    const body = await res.text();
    assert.ok(body.endsWith("data: [DONE]\n\n"));
    assert.ok(!body.includes('"error"'));
    assert.equal(bad.stats().errors, 1);
  });

  test("every route failing gives a non-2xx OpenAI error naming each deployment and cause", async () => {
    const bad1 = await startSim({ errorRate: 1 });
    const bad2 = await startSim({ rateLimitRate: 1, retryAfterSeconds: 60 });
    const srv = await startTestServer({
      providers: { one: simProvider(bad1), two: simProvider(bad2) },
      models: [{ name: "doomed", deployments: [{ provider: "one", model: "a" }, { provider: "two", model: "b" }], extractiveFallback: false }],
      router: { retry: { maxAttempts: 1 } },
      cache: { enabled: false },
    });
    cleanups.push(async () => {
      await srv.close();
      await Promise.all([bad1.close(), bad2.close()]);
    });
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("doomed"), auth(srv));
    assert.equal(res.status, 502);
    assert.equal(res.json.error.code, "all_routes_failed");
    assert.match(res.json.error.message, /doomed\/one:a: UpstreamError 500/);
    assert.match(res.json.error.message, /doomed\/two:b: UpstreamRateLimited 429/);
    assert.equal(res.json.error.attempts.length, 2);
    // The SDK sees a proper API error, not a 200.
    await assert.rejects(srv.client().chat.completions.create({ model: "doomed", messages: [{ role: "user", content: "x" }] }), (e: { status?: number }) => e.status === 502);
    // Streaming too: the failure is an HTTP error, not an event in a 200 stream.
    const s = await postJson(`${srv.url}/v1/chat/completions`, chat("doomed", { stream: true }), auth(srv));
    assert.equal(s.status, 502);
  });

  test("only 429s everywhere → 429 with Retry-After", async () => {
    const rl = await startSim({ rateLimitRate: 1, retryAfterSeconds: 60 });
    const srv = await startTestServer({
      providers: { rl: simProvider(rl) },
      models: [{ name: "busy", deployments: [{ provider: "rl" }], extractiveFallback: false }],
      router: { retry: { maxAttempts: 1 } },
    });
    cleanups.push(async () => {
      await srv.close();
      await rl.close();
    });
    const res = await postJson(`${srv.url}/v1/chat/completions`, chat("busy"), auth(srv));
    assert.equal(res.status, 429);
    assert.equal(res.json.error.code, "upstream_rate_limited");
  });

  test("extractive is the default last resort", async () => {
    const down = await startSim({ errorRate: 1 });
    const srv = await startTestServer({ providers: { down: simProvider(down) }, models: [{ name: "solo", deployments: [{ provider: "down" }] }], router: { retry: { maxAttempts: 1 } } });
    cleanups.push(async () => {
      await srv.close();
      await down.close();
    });
    const res = await postJson(`${srv.url}/v1/chat/completions`, { model: "solo", messages: [{ role: "system", content: "The vault opens at nine." }, { role: "user", content: "When does the vault open?" }] }, auth(srv));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-stratum-model"), "extractive");
    assert.match(res.json.choices[0].message.content, /nine/);
  });
});

describe("circuit breaker", () => {
  test("opens after N consecutive failures, half-opens after openMs, closes on success", async () => {
    let failing = true;
    // errorRate 0.5 with a pinned random: 0 → fail, 0.99 → succeed.
    const flaky = await startSim({ errorRate: 0.5, random: () => (failing ? 0 : 0.99) });
    const good = await startSim();
    const srv = await startTestServer({
      providers: { flaky: simProvider(flaky), good: simProvider(good) },
      models: [
        { name: "primary", deployments: [{ provider: "flaky", model: "m" }], fallbacks: ["backup"], extractiveFallback: false },
        { name: "backup", deployments: [{ provider: "good", model: "m" }], extractiveFallback: false },
      ],
      router: { retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 3, openMs: 400, halfOpenMaxCalls: 1 } },
      cache: { enabled: false },
    });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv))).status, 200);
      assert.equal(flaky.stats().chat, 3);
      const metrics = async () => (await fetch(`${srv.url}/metrics`)).text();
      assert.match(await metrics(), /stratum_circuit_state\{deployment="primary\/flaky:m"\} 2/);

      // Open: the failing deployment is not called at all.
      const res = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-stratum-model"), "backup");
      assert.equal(flaky.stats().chat, 3, "no call while open");
      assert.match(await metrics(), /outcome="CircuitOpen"/);

      // After openMs one trial goes through; it succeeds and the circuit closes.
      failing = false;
      await new Promise((r) => setTimeout(r, 450));
      const trial = await postJson(`${srv.url}/v1/chat/completions`, chat("primary"), auth(srv));
      assert.equal(trial.headers.get("x-stratum-model"), "primary");
      assert.equal(flaky.stats().chat, 4);
      assert.match(await metrics(), /stratum_circuit_state\{deployment="primary\/flaky:m"\} 0/);
    } finally {
      await srv.close();
      await Promise.all([flaky.close(), good.close()]);
    }
  });
});

describe("streams", () => {
  test("a failure after the first byte becomes an error event followed by [DONE]", async () => {
    const dying = await startSim({ midStreamErrorRate: 1, outputTokens: 64 });
    const srv = await startTestServer({ providers: { dying: simProvider(dying) }, models: [{ name: "dying", deployments: [{ provider: "dying" }] }], cache: { enabled: false } });
    try {
      const res = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { ...auth(srv), "content-type": "application/json" }, body: JSON.stringify(chat("dying", { stream: true })) });
      assert.equal(res.status, 200);
      const body = await res.text();
      const events = body.split("\n\n").filter(Boolean);
      assert.equal(events.at(-1), "data: [DONE]");
      const errorEvent = JSON.parse(events.at(-2)!.slice(6));
      assert.ok(errorEvent.error, "an error object in a data event");
      assert.match(errorEvent.error.message, /after it started/);
      assert.ok(events.some((e) => e.includes('"content"')), "some content arrived before the failure");
      // The OpenAI SDK surfaces it as an error during iteration.
      const stream = await srv.client().chat.completions.create({ model: "dying", messages: [{ role: "user", content: "x" }], stream: true });
      await assert.rejects(async () => {
        for await (const _ of stream) void _;
      });
      assert.equal((await postJson(`${srv.url}/v1/chat/completions`, chat("extractive"), auth(srv))).status, 200, "server keeps serving");
    } finally {
      await srv.close();
      await dying.close();
    }
  });

  test("the total timeout ends a stream that runs too long: error event, [DONE], upstream released", async () => {
    const slow = await startSim({ tokensPerSecond: 20, outputTokens: 200 }); // ~10 s
    const srv = await startTestServer({ providers: { slow: simProvider(slow) }, models: [{ name: "slow", deployments: [{ provider: "slow" }] }], router: { timeouts: { totalMs: 600 } }, cache: { enabled: false } });
    try {
      const t0 = performance.now();
      const res = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { ...auth(srv), "content-type": "application/json" }, body: JSON.stringify(chat("slow", { stream: true })) });
      const body = await res.text();
      const elapsed = performance.now() - t0;
      assert.ok(elapsed < 3000, `ended by the total timeout (${elapsed.toFixed(0)} ms)`);
      assert.ok(body.endsWith("data: [DONE]\n\n"));
      assert.match(body, /total timeout/);
      await eventually(() => slow.stats().inFlight === 0, 3000, "upstream released");
    } finally {
      await srv.close();
      await slow.close();
    }
  });

  test("a client that disconnects mid-stream releases the upstream request", async () => {
    const slow = await startSim({ tokensPerSecond: 50, outputTokens: 200 });
    const srv = await startTestServer({ providers: { slow: simProvider(slow) }, models: [{ name: "slow", deployments: [{ provider: "slow" }] }], cache: { enabled: false } });
    try {
      const ac = new AbortController();
      const res = await fetch(`${srv.url}/v1/chat/completions`, { method: "POST", headers: { ...auth(srv), "content-type": "application/json" }, body: JSON.stringify(chat("slow", { stream: true })), signal: ac.signal });
      const reader = res.body!.getReader();
      await reader.read();
      assert.equal(slow.stats().inFlight, 1);
      ac.abort();
      await eventually(() => slow.stats().inFlight === 0, 3000, "upstream released after client abort");
    } finally {
      await srv.close();
      await slow.close();
    }
  });
});

describe("response cache and coalescing", () => {
  test("identical requests hit the cache; cached answers replay as streams; tenants are isolated", async () => {
    const up = await startSim();
    const srv = await startTestServer({ providers: { up: simProvider(up) }, models: [{ name: "m", deployments: [{ provider: "up" }] }] });
    try {
      const body = chat("m", { temperature: 0 });
      const first = await postJson(`${srv.url}/v1/chat/completions`, body, auth(srv));
      const second = await postJson(`${srv.url}/v1/chat/completions`, body, auth(srv));
      assert.equal(first.headers.get("x-stratum-cache"), "miss");
      assert.equal(second.headers.get("x-stratum-cache"), "hit");
      assert.equal(second.json.choices[0].message.content, first.json.choices[0].message.content);
      assert.equal(up.stats().chat, 1);

      const stream = await srv.client().chat.completions.create({ ...(body as { model: string; messages: Array<{ role: "user"; content: string }> }), stream: true, stream_options: { include_usage: true } });
      let text = "";
      let usage;
      for await (const c of stream) {
        text += c.choices[0]?.delta.content ?? "";
        usage = c.usage ?? usage;
      }
      assert.equal(text, first.json.choices[0].message.content);
      assert.equal(usage!.completion_tokens, first.json.usage.completion_tokens);
      assert.equal(up.stats().chat, 1, "replayed from cache");

      // Another tenant does not see the first tenant's cache.
      const other = await srv.createKey({ tenant: "other" });
      const res = await postJson(`${srv.url}/v1/chat/completions`, body, { authorization: `Bearer ${other}` });
      assert.equal(res.headers.get("x-stratum-cache"), "miss");
      assert.equal(up.stats().chat, 2);

      // Cache-Control: no-cache bypasses it.
      const bypass = await postJson(`${srv.url}/v1/chat/completions`, body, { ...auth(srv), "cache-control": "no-cache" });
      assert.equal(bypass.headers.get("x-stratum-cache"), "bypass");
    } finally {
      await srv.close();
      await up.close();
    }
  });

  test("a streamed answer is cached and later served to a JSON request", async () => {
    const up = await startSim();
    const srv = await startTestServer({ providers: { up: simProvider(up) }, models: [{ name: "m", deployments: [{ provider: "up" }] }] });
    try {
      const body = chat("m", { seed: 42 });
      const stream = await srv.client().chat.completions.create({ ...(body as { model: string; messages: Array<{ role: "user"; content: string }> }), stream: true });
      let text = "";
      for await (const c of stream) text += c.choices[0]?.delta.content ?? "";
      await eventually(async () => (await postJson(`${srv.url}/v1/chat/completions`, body, auth(srv))).headers.get("x-stratum-cache") === "hit", 2000, "cached stream");
      const res = await postJson(`${srv.url}/v1/chat/completions`, body, auth(srv));
      assert.equal(res.json.choices[0].message.content, text);
    } finally {
      await srv.close();
      await up.close();
    }
  });

  test("a broken cache store degrades to misses, never to failed requests", async () => {
    const up = await startSim();
    const srv = await startTestServer({ providers: { up: simProvider(up) }, models: [{ name: "m", deployments: [{ provider: "up" }] }], cache: { store: "sqlite" } });
    try {
      const { default: Database } = await import("better-sqlite3");
      const db = new Database(`${srv.dataDir}/stratum.db`);
      db.exec("DROP TABLE response_cache");
      db.close();
      for (let i = 0; i < 2; i++) {
        const res = await postJson(`${srv.url}/v1/chat/completions`, chat("m", { seed: 9 }), auth(srv));
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("x-stratum-cache"), "miss");
      }
      assert.equal(up.stats().chat, 2);
      await eventually(() => srv.logs.some((l) => l.includes("response cache failed")), 2000, "cache failure logged");
    } finally {
      await srv.close();
      await up.close();
    }
  });

  test("identical in-flight requests are coalesced into one upstream call", async () => {
    const up = await startSim({ ttftMs: 300 });
    const srv = await startTestServer({ providers: { up: simProvider(up) }, models: [{ name: "m", deployments: [{ provider: "up" }] }] });
    try {
      const body = chat("m", { seed: 5 });
      const results = await Promise.all(Array.from({ length: 5 }, () => postJson(`${srv.url}/v1/chat/completions`, body, auth(srv))));
      assert.ok(results.every((r) => r.status === 200));
      assert.equal(up.stats().chat, 1);
      assert.equal(results.filter((r) => r.headers.get("x-stratum-cache") === "coalesced").length, 4);
      assert.equal(new Set(results.map((r) => r.json.choices[0].message.content)).size, 1);
    } finally {
      await srv.close();
      await up.close();
    }
  });
});

describe("bulkhead", () => {
  test("a deployment at its concurrency limit sends the overflow to the next route at once", async () => {
    const { bad, good, srv, closeAll } = await setup({ ttftMs: 400 }, {}, { deployments: [{ provider: "bad", model: "m", maxConcurrent: 1 }] });
    try {
      const [a, b] = await Promise.all([
        postJson(`${srv.url}/v1/chat/completions`, chat("primary", { seed: 1 }), auth(srv)),
        postJson(`${srv.url}/v1/chat/completions`, chat("primary", { seed: 2 }), auth(srv)),
      ]);
      assert.deepEqual([a.headers.get("x-stratum-model"), b.headers.get("x-stratum-model")].sort(), ["backup", "primary"]);
      assert.equal(bad.stats().chat, 1);
      assert.equal(good.stats().chat, 1);
      assert.match(await (await fetch(`${srv.url}/metrics`)).text(), /outcome="ConcurrencyLimited"/);
    } finally {
      await closeAll();
    }
  });
});

describe("load balancing", () => {
  test("weighted deployments share traffic by weight", async () => {
    const a = await startSim();
    const b = await startSim();
    const srv = await startTestServer({
      providers: { a: simProvider(a), b: simProvider(b) },
      models: [{ name: "lb", deployments: [{ provider: "a", weight: 3 }, { provider: "b", weight: 1 }] }],
      cache: { enabled: false },
    });
    try {
      for (let i = 0; i < 200; i++) await postJson(`${srv.url}/v1/chat/completions`, chat("lb"), auth(srv));
      const share = a.stats().chat / 200;
      assert.ok(share > 0.62 && share < 0.88, `share of the weight-3 deployment: ${share}`);
    } finally {
      await srv.close();
      await Promise.all([a.close(), b.close()]);
    }
  });
});
