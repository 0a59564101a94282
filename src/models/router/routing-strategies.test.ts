// Latency-aware and complexity routing: the scorer on its own, the route
// table's order, and both strategies end to end over HTTP (official `openai`
// SDK → Stratum → two sim-upstreams), read from `x-stratum-deployment`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../config/index.js";
import { startSim, startTestServer, simProvider, type TestServer } from "../../testing/harness.js";
import type { SimUpstream } from "../../sim/server.js";
import type { ChatProvider } from "../provider.js";
import { scoreComplexity } from "./complexity.js";
import { RecentLatency } from "./recent-latency.js";
import { RouteTable } from "./route-table.js";

const user = (content: string) => ({ messages: [{ role: "user" as const, content }] });

describe("scoreComplexity", () => {
  test("a short factual question is simple; reasoning, code, math, tools and length raise the score", () => {
    const simple = scoreComplexity(user("What's the capital of France?"));
    assert.ok(simple < 0.1, `simple: ${simple}`);
    const reasoning = scoreComplexity(user("Explain why the sky is blue and compare it with sunsets"));
    assert.ok(reasoning >= 0.3, `reasoning: ${reasoning}`);
    const code = scoreComplexity(user("Why does this leak?\n```js\nconst xs = []; setInterval(() => xs.push(new Array(1e6)), 10);\n```"));
    assert.ok(code >= 0.45, `code: ${code}`);
    assert.ok(scoreComplexity(user("Solve 3x + 4 = 19 for x")) >= 0.2);
    const withTools = scoreComplexity({ ...user("hi"), tools: [{ type: "function", function: { name: "f" } }] });
    assert.ok(Math.abs(withTools - 0.2) < 0.01, `tools: ${withTools}`);
    const long = scoreComplexity(user("word ".repeat(2000)));
    assert.ok(long >= 0.4 && long <= 0.41, `long: ${long}`);
    assert.ok(scoreComplexity(user("Explain, compare, analyze, prove, derive and design step by step:\n" + "x = f(y);\n".repeat(2000))) <= 1);
  });
});

test("recent latency is the median of the last 16 successes: a cold first call does not hold it up", () => {
  const l = new RecentLatency();
  assert.equal(l.value, undefined);
  l.observe(400);
  assert.equal(l.value, 400);
  l.observe(8);
  l.observe(9);
  assert.equal(l.value, 9);
  l.observe(Number.NaN); // ignored
  assert.equal(l.value, 9);
  for (let i = 0; i < 16; i++) l.observe(50);
  assert.equal(l.value, 50, "only the last 16 count");
});

describe("RouteTable order by routing", () => {
  const provider: ChatProvider = { type: "openai", chat: async () => assert.fail(), stream: async () => assert.fail() };
  const providers = new Map(["small", "large", "other", "extractive", "sim"].map((n) => [n, provider]));
  const table = (routing: "latency" | "complexity") =>
    new RouteTable(
      parseConfig({
        providers: { small: { type: "sim" }, large: { type: "sim" }, other: { type: "sim" } },
        models: [
          {
            name: "auto",
            routing,
            deployments: [
              { provider: "small", tier: "simple" },
              { provider: "large", tier: "complex" },
              { provider: "other" },
            ],
          },
        ],
      }),
      providers,
    );

  test("complexity: the asked-for tier first, then the rest as failover", () => {
    const t = table("complexity");
    for (let i = 0; i < 20; i++) {
      assert.equal(t.pickOrder("auto", user("hello"))[0]!.providerName, "small");
      const order = t.pickOrder("auto", user("Explain step by step why this design is slow and compare the trade-offs"));
      assert.equal(order[0]!.providerName, "large");
      assert.equal(order.length, 3);
    }
  });

  test("latency: shares follow weight / recent latency; unmeasured deployments count as the fastest", () => {
    const t = table("latency");
    const byName = new Map(t.deployments().map((d) => [d.providerName, d]));
    byName.get("small")!.latency!.observe(10);
    byName.get("large")!.latency!.observe(40);
    // other: unmeasured → counted at 10 ms. Expected first-pick shares: 10 : 2.5 : 10.
    const firsts = new Map<string, number>();
    let seed = 1;
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    for (let i = 0; i < 9000; i++) {
      const first = t.pickOrder("auto", undefined, random)[0]!.providerName;
      firsts.set(first, (firsts.get(first) ?? 0) + 1);
    }
    const share = (n: string) => (firsts.get(n) ?? 0) / 9000;
    assert.ok(Math.abs(share("small") - 10 / 22.5) < 0.03, `small ${share("small")}`);
    assert.ok(Math.abs(share("other") - 10 / 22.5) < 0.03, `other ${share("other")}`);
    assert.ok(Math.abs(share("large") - 2.5 / 22.5) < 0.03, `large ${share("large")}`);
  });

  test("complexity routing without both tiers is a config error naming the field", () => {
    assert.throws(
      () => parseConfig({ providers: { small: { type: "sim" } }, models: [{ name: "auto", routing: "complexity", deployments: [{ provider: "small", tier: "simple" }] }] }),
      /models\[0\]\.deployments: routing: complexity needs a deployment with tier: complex/,
    );
  });
});

describe("routing strategies over HTTP", () => {
  let fast: SimUpstream;
  let slow: SimUpstream;
  let small: SimUpstream;
  let large: SimUpstream;
  let srv: TestServer;
  before(async () => {
    // 250 ms apart: a gap a loaded CI machine's event-loop stalls (tens of ms) cannot hide.
    [fast, slow, small, large] = await Promise.all([startSim(), startSim({ ttftMs: 250 }), startSim(), startSim()]);
    srv = await startTestServer({
      providers: { fast: simProvider(fast), slow: simProvider(slow), small: simProvider(small), large: simProvider(large) },
      models: [
        { name: "quick", routing: "latency", deployments: [{ provider: "fast" }, { provider: "slow" }] },
        { name: "auto", routing: "complexity", deployments: [{ provider: "small", tier: "simple" }, { provider: "large", tier: "complex" }] },
      ],
      cache: { enabled: false },
      router: { retry: { maxAttempts: 1 } },
    });
  });
  after(async () => {
    await srv.close();
    await Promise.allSettled([fast, slow, small, large].map((s) => s.close())); // small is closed by a test already
  });

  const servedBy = async (model: string, content: string, stream = false) => {
    const r = await srv.client().chat.completions.create({ model, messages: [{ role: "user", content }], max_tokens: 4, stream }).withResponse();
    if (stream) for await (const _ of r.data as AsyncIterable<unknown>) void _;
    return r.response.headers.get("x-stratum-deployment");
  };

  test("latency: once both are measured, the upstream 250 ms slower gets a small share", async () => {
    const counts = new Map<string, number>();
    let slowEver = 0;
    for (let i = 0; i < 40; i++) {
      const d = (await servedBy("quick", `question ${i}`, i % 2 === 1))!;
      if (d === "quick/slow:quick") slowEver++;
      // The first 20 are the learning phase (cold connections, first measurements); the last 20 count.
      if (i >= 20) counts.set(d, (counts.get(d) ?? 0) + 1);
    }
    const fastCount = counts.get("quick/fast:quick") ?? 0;
    assert.ok(slowEver >= 1, "the slow deployment was tried (and measured)");
    assert.ok(fastCount >= 16, `fast served ${fastCount} of the last 20 (slow ${counts.get("quick/slow:quick") ?? 0})`);
  });

  test("complexity: simple questions go to the small model, demanding ones to the large one; failover still applies", async () => {
    assert.equal(await servedBy("auto", "What's the capital of France?"), "auto/small:auto");
    assert.equal(await servedBy("auto", "Explain why this function is slow and how to optimize it:\n```ts\nfor (const x of xs) ys = [...ys, x];\n```", true), "auto/large:auto");
    await small.close(); // the small model's upstream is down: simple questions fail over to the large one
    assert.equal(await servedBy("auto", "What's the capital of Spain?"), "auto/large:auto");
  });
});
