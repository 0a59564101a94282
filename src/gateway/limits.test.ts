// Rate limits, concurrency, budgets and metering, end to end over real HTTP
// against sim upstreams.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { eventually, postJson, simProvider, startSim, startTestServer, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const auth = (key: string) => ({ authorization: `Bearer ${key}` });
const chat = (srv: TestServer, key: string, body: Record<string, unknown>) => postJson(`${srv.url}/v1/chat/completions`, body, auth(key));
const hello = (model: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user", content: "hello there" }], ...extra });

/** Create a key through the admin API; returns its id as well as the key. */
async function newKey(srv: TestServer, body: { tenant: string; limits?: Record<string, number> }): Promise<{ id: string; key: string }> {
  const r = await postJson(`${srv.url}/admin/keys`, body, auth(srv.adminKey));
  assert.equal(r.status, 201, r.text);
  return { id: r.json.id, key: r.json.key };
}

type UsageRow = { keyId: string; model: string; requests: number; promptTokens: number; completionTokens: number; costUsd: number };
async function usageRows(srv: TestServer): Promise<UsageRow[]> {
  const res = await fetch(`${srv.url}/admin/usage`, { headers: auth(srv.adminKey) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: UsageRow[] }).data;
}

/** Wait until the usage table has a row for each key/model pair with the given request count. */
async function rowsFor(srv: TestServer, pairs: Array<[keyId: string, model: string]>, requests = 1): Promise<UsageRow[]> {
  const rows = await eventually(
    async () => {
      const rows = await usageRows(srv);
      const found = pairs.map(([k, m]) => rows.find((r) => r.keyId === k && r.model === m && r.requests === requests));
      return found.every(Boolean) ? (found as UsageRow[]) : undefined;
    },
    3000,
    "usage rows",
  );
  return rows!;
}

function assertOpenAIError(body: Json, type: string, code: string): void {
  assert.ok(body && typeof body.error === "object", `OpenAI-shaped error, got ${JSON.stringify(body)}`);
  assert.equal(typeof body.error.message, "string");
  assert.ok(body.error.message.length > 0);
  assert.equal(body.error.type, type);
  assert.equal(body.error.code, code);
  assert.ok("param" in body.error);
}

function assertRetryAfter(headers: Headers): number {
  const ra = headers.get("retry-after");
  assert.ok(ra !== null, "Retry-After header");
  assert.match(ra, /^\d+$/, "Retry-After is integer seconds");
  const n = Number(ra);
  assert.ok(n >= 1, `Retry-After >= 1, got ${n}`);
  return n;
}

describe("request, token and concurrency limits", () => {
  let sim: SimUpstream;
  let slow: SimUpstream;
  let srv: TestServer;
  before(async () => {
    sim = await startSim();
    slow = await startSim({ ttftMs: 400 });
    srv = await startTestServer({
      providers: { up: simProvider(sim), slow: simProvider(slow) },
      models: [
        { name: "gpt-test", deployments: [{ provider: "up", model: "sim-model" }], extractiveFallback: false },
        { name: "gpt-slow", deployments: [{ provider: "slow", model: "sim-model" }], extractiveFallback: false },
      ],
      limits: { perUser: { requestsPerMinute: 2 } },
      cache: { enabled: false },
    });
  });
  after(async () => {
    await srv.close();
    await sim.close();
    await slow.close();
  });

  test("per-key requests/min: the 4th request of 3/min is a 429 with Retry-After and x-ratelimit headers", async () => {
    const { key } = await newKey(srv, { tenant: "acme", limits: { requestsPerMinute: 3 } });
    const other = await newKey(srv, { tenant: "acme", limits: { requestsPerMinute: 3 } });
    const remaining: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await chat(srv, key, hello("gpt-test"));
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get("x-ratelimit-limit-requests"), "3");
      assert.match(r.headers.get("x-ratelimit-reset-requests") ?? "", /^\d+(\.\d+)?s$/);
      remaining.push(Number(r.headers.get("x-ratelimit-remaining-requests")));
    }
    assert.deepEqual(remaining, [2, 1, 0]);

    const limited = await chat(srv, key, hello("gpt-test"));
    assert.equal(limited.status, 429, limited.text);
    assertOpenAIError(limited.json, "rate_limit_error", "rate_limit_exceeded");
    assert.match(limited.json.error.message, /requests/);
    const retryAfter = assertRetryAfter(limited.headers);
    assert.ok(retryAfter <= 60, "a one-minute window resets within 60 s");
    assert.equal(limited.headers.get("x-ratelimit-limit-requests"), "3");
    assert.equal(limited.headers.get("x-ratelimit-remaining-requests"), "0");
    assert.match(limited.headers.get("x-ratelimit-reset-requests") ?? "", /^\d+(\.\d+)?s$/);

    // The SDK sees a RateLimitError too.
    await assert.rejects(
      srv.client(key).chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "x" }] }),
      (e: { status?: number; code?: string }) => e.status === 429 && e.code === "rate_limit_exceeded",
    );

    // Another key of the same tenant is unaffected.
    const ok = await chat(srv, other.key, hello("gpt-test"));
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.headers.get("x-ratelimit-remaining-requests"), "2");
    // Streamed responses carry the headers too.
    const streamed = await chat(srv, other.key, hello("gpt-test", { stream: true }));
    assert.equal(streamed.status, 200);
    assert.match(streamed.headers.get("content-type") ?? "", /text\/event-stream/);
    assert.equal(streamed.headers.get("x-ratelimit-limit-requests"), "3");
    assert.equal(streamed.headers.get("x-ratelimit-remaining-requests"), "1");
  });

  test("per end user (the `user` field): user A is limited, user B on the same key is still served", async () => {
    const { key } = await newKey(srv, { tenant: "users" });
    for (let i = 0; i < 2; i++) assert.equal((await chat(srv, key, hello("gpt-test", { user: "alice" }))).status, 200);
    const limited = await chat(srv, key, hello("gpt-test", { user: "alice" }));
    assert.equal(limited.status, 429, limited.text);
    assertOpenAIError(limited.json, "rate_limit_error", "rate_limit_exceeded");
    assert.match(limited.json.error.message, /user/);
    assertRetryAfter(limited.headers);

    const bob = await chat(srv, key, hello("gpt-test", { user: "bob" }));
    assert.equal(bob.status, 200, bob.text);
    // Requests without a user are not counted against any end user.
    assert.equal((await chat(srv, key, hello("gpt-test"))).status, 200);
  });

  test("requests an end user is refused do not use up the key's own quota", async () => {
    // perUser: 2/min (config), key: 4/min. Alice's refused retries must not lock out Bob and Carol.
    const { key } = await newKey(srv, { tenant: "users", limits: { requestsPerMinute: 4 } });
    for (let i = 0; i < 2; i++) assert.equal((await chat(srv, key, hello("gpt-test", { user: "alice" }))).status, 200);
    for (let i = 0; i < 4; i++) {
      const r = await chat(srv, key, hello("gpt-test", { user: "alice" }));
      assert.equal(r.status, 429);
      assert.match(r.json.error.message, /user/, "refused by alice's own limit");
    }
    assert.equal((await chat(srv, key, hello("gpt-test", { user: "bob" }))).status, 200);
    assert.equal((await chat(srv, key, hello("gpt-test", { user: "carol" }))).status, 200);
    const over = await chat(srv, key, hello("gpt-test", { user: "dave" }));
    assert.equal(over.status, 429, "the key's 4/min is now used by the 4 admitted requests");
    assert.match(over.json.error.message, /key/);
  });

  test("tokens/min: prompt tokens on admission plus completion tokens afterwards exhaust a small budget", async () => {
    const tpm = 60;
    const { key } = await newKey(srv, { tenant: "tok", limits: { tokensPerMinute: tpm } });
    const first = await chat(srv, key, hello("gpt-test"));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get("x-ratelimit-limit-tokens"), String(tpm));
    const used = first.json.usage.prompt_tokens + first.json.usage.completion_tokens;
    // Admission counts an estimate of the prompt (no tokenizer on the hot path); the exact count corrects it afterwards.
    const admitted = tpm - Number(first.headers.get("x-ratelimit-remaining-tokens"));
    assert.ok(admitted > 0 && admitted <= 2 * first.json.usage.prompt_tokens, `admission counted ${admitted} for ${first.json.usage.prompt_tokens} prompt tokens`);
    assert.ok(used < tpm, "one request fits");

    let limited: Awaited<ReturnType<typeof chat>> | undefined;
    let n = 1;
    for (; n < 10 && !limited; n++) {
      const r = await chat(srv, key, hello("gpt-test"));
      if (r.status === 429) limited = r;
      else assert.equal(r.status, 200, r.text);
    }
    assert.ok(limited, "a 429 on tokens");
    // Completion tokens count: without them it would take tpm/prompt requests.
    assert.ok(n - 1 <= Math.ceil(tpm / used) + 1, `limited after ${n - 1} requests (each uses ${used} tokens)`);
    assertOpenAIError(limited.json, "rate_limit_error", "rate_limit_exceeded");
    assert.match(limited.json.error.message, /tokens/);
    assertRetryAfter(limited.headers);
    assert.equal(limited.headers.get("x-ratelimit-limit-tokens"), String(tpm));
  });

  test("concurrent: a second request while one is in flight is a 429 concurrency_limit_exceeded; after it ends, requests succeed", async () => {
    const { key } = await newKey(srv, { tenant: "conc", limits: { concurrent: 1 } });
    const before = slow.stats().chat;
    const held = fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...auth(key), "content-type": "application/json" },
      body: JSON.stringify(hello("gpt-slow", { stream: true })),
    }).then(async (res) => ({ status: res.status, text: await res.text() }));
    await eventually(() => slow.stats().chat > before && slow.stats().inFlight > 0, 3000, "the slow request to reach the upstream");

    const second = await chat(srv, key, hello("gpt-test"));
    assert.equal(second.status, 429, second.text);
    assertOpenAIError(second.json, "rate_limit_error", "concurrency_limit_exceeded");
    assertRetryAfter(second.headers);
    assert.equal(second.headers.get("x-ratelimit-limit-concurrent"), "1");

    const first = await held;
    assert.equal(first.status, 200);
    assert.match(first.text, /data: \[DONE\]/);
    const third = await chat(srv, key, hello("gpt-test"));
    assert.equal(third.status, 200, third.text);
    // A failed request frees its slot too.
    assert.equal((await chat(srv, key, hello("no-such-model"))).status, 404);
    assert.equal((await chat(srv, key, hello("gpt-test"))).status, 200);
  });
});

/** "gpt-test" served by `sim` at $1 a token, uncached: one request uses up any budget below $1. */
const dollarPerToken = (sim: SimUpstream) => ({
  providers: { up: simProvider(sim) },
  models: [{ name: "gpt-test", deployments: [{ provider: "up", model: "sim-model" }], extractiveFallback: false }],
  pricing: { "sim-model": { input: 1_000_000, output: 1_000_000 } },
  cache: { enabled: false },
});

describe("daily budgets", () => {
  let sim: SimUpstream;
  let block: TestServer;
  let downgrade: TestServer;
  const common = () => dollarPerToken(sim);
  before(async () => {
    sim = await startSim();
    block = await startTestServer(common());
    downgrade = await startTestServer({ ...common(), budgets: { onExceeded: "downgrade", downgradeTo: "extractive", dailyUsd: 0.5 } });
  });
  after(async () => {
    await block.close();
    await downgrade.close();
    await sim.close();
  });

  test("a key over its dailyBudgetUsd gets 429 insufficient_quota / budget_exceeded", async () => {
    const { id, key } = await newKey(block, { tenant: "b", limits: { dailyBudgetUsd: 0.5 } });
    const free = await newKey(block, { tenant: "b" });
    const first = await chat(block, key, hello("gpt-test"));
    assert.equal(first.status, 200, first.text);
    const [row] = await rowsFor(block, [[id, "gpt-test"]]);
    const u = first.json.usage;
    assert.equal(row!.costUsd, u.prompt_tokens + u.completion_tokens, "cost = tokens x $1");

    const over = await chat(block, key, hello("gpt-test"));
    assert.equal(over.status, 429, over.text);
    assertOpenAIError(over.json, "insufficient_quota", "budget_exceeded");
    assertRetryAfter(over.headers);
    // The SDK sees it as a 429 as well.
    await assert.rejects(
      block.client(key).chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "x" }] }),
      (e: { status?: number; code?: string; type?: string }) => e.status === 429 && e.code === "budget_exceeded",
    );
    // A key without a budget is unaffected.
    assert.equal((await chat(block, free.key, hello("gpt-test"))).status, 200);
  });

  test("onExceeded: downgrade serves the next request with the downgrade alias", async () => {
    const { id, key } = await newKey(downgrade, { tenant: "d" });
    const first = await chat(downgrade, key, hello("gpt-test"));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers.get("x-stratum-model"), "gpt-test");
    assert.equal(first.headers.get("x-stratum-downgraded"), null);
    await rowsFor(downgrade, [[id, "gpt-test"]]);

    const next = await chat(downgrade, key, hello("gpt-test"));
    assert.equal(next.status, 200, next.text);
    assert.equal(next.headers.get("x-stratum-downgraded"), "budget");
    assert.equal(next.headers.get("x-stratum-model"), "extractive");
    assert.equal(next.json.object, "chat.completion");
  });
});

type BudgetRow = { scope: "key" | "tenant"; id: string; period: "day" | "month"; limit_usd: number; spent_usd: number; resets_at: string };
async function budgetRows(srv: TestServer, tenant?: string): Promise<BudgetRow[]> {
  const res = await fetch(`${srv.url}/admin/budgets${tenant ? `?tenant=${tenant}` : ""}`, { headers: auth(srv.adminKey) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: BudgetRow[] }).data;
}

/** Wait until a cap's spend reaches its limit (the request that spent it is accounted after its response). */
async function budgetUsedUp(srv: TestServer, scope: BudgetRow["scope"], id: string, period: BudgetRow["period"]): Promise<BudgetRow> {
  const row = await eventually(
    async () => (await budgetRows(srv)).find((r) => r.scope === scope && r.id === id && r.period === period && r.spent_usd >= r.limit_usd),
    3000,
    `${scope} ${id} ${period} budget used up`,
  );
  return row!;
}

const nextUtcMonth = (t = Date.now()) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

describe("budgets per tenant and per month", () => {
  let sim: SimUpstream;
  let srv: TestServer;
  let dataDir: string;
  const config = () => ({
    ...dollarPerToken(sim),
    budgets: { perTenant: { dailyUsd: 0.5 }, tenants: { vip: { dailyUsd: 1_000_000 }, frugal: { monthlyUsd: 0.5 } } },
  });
  before(async () => {
    sim = await startSim();
    dataDir = mkdtempSync(join(tmpdir(), "stratum-budgets-"));
    srv = await startTestServer(config(), { dataDir });
  });
  after(async () => {
    await srv.close();
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("a key's monthly budget blocks until the first of next month", async () => {
    const { id, key } = await newKey(srv, { tenant: "vip", limits: { monthlyBudgetUsd: 0.5 } });
    assert.equal((await chat(srv, key, hello("gpt-test"))).status, 200);
    const row = await budgetUsedUp(srv, "key", id, "month");
    assert.equal(Date.parse(row.resets_at), nextUtcMonth());
    const over = await chat(srv, key, hello("gpt-test"));
    assert.equal(over.status, 429, over.text);
    assertOpenAIError(over.json, "insufficient_quota", "budget_exceeded");
    assert.match(over.json.error.message, /Monthly budget of \$0\.5000 for this key is used up/);
    assert.match(over.json.error.message, new RegExp(`resets at ${new Date(nextUtcMonth()).toISOString()}`));
    const seconds = assertRetryAfter(over.headers);
    assert.ok(Math.abs(seconds - (nextUtcMonth() - Date.now()) / 1000) < 5, `Retry-After ${seconds} s is the time to the month's end`);
    // The key itself can see its budgets and what it spent (vip's named tenant cap included).
    const me = await fetch(`${srv.url}/v1/me`, { headers: auth(key) }).then((r) => r.json() as Promise<{ budgets: BudgetRow[] }>);
    assert.deepEqual(me.budgets.map((b) => [b.scope, b.period, b.limit_usd]), [["key", "month", 0.5], ["tenant", "day", 1_000_000]]);
    assert.equal(me.budgets[0]!.spent_usd, row.spent_usd);
  });

  test("a tenant's daily cap holds across all its keys; other tenants and a named tenant's own cap are apart", async () => {
    const a = await newKey(srv, { tenant: "t1" });
    const b = await newKey(srv, { tenant: "t1" });
    const other = await newKey(srv, { tenant: "t2" });
    const vip = await newKey(srv, { tenant: "vip" });
    assert.equal((await chat(srv, a.key, hello("gpt-test"))).status, 200);
    await budgetUsedUp(srv, "tenant", "t1", "day");
    for (const k of [a, b]) {
      const over = await chat(srv, k.key, hello("gpt-test"));
      assert.equal(over.status, 429, over.text);
      assert.match(over.json.error.message, /Daily budget of \$0\.5000 for tenant "t1" is used up/);
    }
    assert.equal((await chat(srv, other.key, hello("gpt-test"))).status, 200, "t2 has its own default cap");
    for (let i = 0; i < 3; i++) assert.equal((await chat(srv, vip.key, hello("gpt-test"))).status, 200, "vip's named cap replaces the default");
    const t1 = await budgetRows(srv, "t1");
    assert.deepEqual(t1.map((r) => [r.scope, r.id, r.period]), [["tenant", "t1", "day"]], "the caps on t1's keys: the tenant's daily one");
    assert.ok(t1[0]!.spent_usd > 0.5);
  });

  test("a tenant's monthly spend survives a restart (seeded from SQLite)", async () => {
    const { key } = await newKey(srv, { tenant: "frugal" });
    assert.equal((await chat(srv, key, hello("gpt-test"))).status, 200);
    const spent = await budgetUsedUp(srv, "tenant", "frugal", "month");
    await srv.close();
    srv = await startTestServer(config(), { dataDir });
    const second = await newKey(srv, { tenant: "frugal" });
    const over = await chat(srv, second.key, hello("gpt-test"));
    assert.equal(over.status, 429, over.text);
    assert.match(over.json.error.message, /Monthly budget of \$0\.5000 for tenant "frugal"/);
    const after = (await budgetRows(srv, "frugal")).find((r) => r.period === "month")!;
    assert.equal(after.spent_usd, spent.spent_usd, "the same spend, read back from the usage table");
  });

  test("bad budget values are refused with the field named", async () => {
    for (const limits of [{ monthlyBudgetUsd: -1 }, { monthlyBudgetUsd: "5" }]) {
      const r = await postJson(`${srv.url}/admin/keys`, { tenant: "x", limits }, auth(srv.adminKey));
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.error.param, "limits.monthlyBudgetUsd");
    }
  });
});

describe("metering: streamed requests are metered and costed like non-streamed ones", () => {
  let sim: SimUpstream;
  let quiet: SimUpstream;
  let srv: TestServer;
  before(async () => {
    sim = await startSim();
    quiet = await startSim({ noUsage: true });
    srv = await startTestServer({
      providers: { up: simProvider(sim), quiet: simProvider(quiet) },
      models: [
        { name: "gpt-test", deployments: [{ provider: "up", model: "sim-model" }], extractiveFallback: false },
        { name: "gpt-quiet", deployments: [{ provider: "quiet", model: "sim-model" }], extractiveFallback: false },
      ],
      pricing: { "sim-model": { input: 2, output: 8 } },
      cache: { enabled: false },
    });
  });
  after(async () => {
    await srv.close();
    await quiet.close();
    await sim.close();
  });

  type Body = { model: string; messages: Array<{ role: "user"; content: string }>; seed?: number; max_tokens?: number };

  async function streamText(key: string, body: Body): Promise<{ text: string; usage: Json }> {
    const stream = await srv.client(key).chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let usage: Json;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    return { text, usage };
  }

  test("same request streamed and non-streamed: identical tokens and cost, with and without upstream usage", async () => {
    const plain = await newKey(srv, { tenant: "meter" });
    const streamed = await newKey(srv, { tenant: "meter" });
    const body = { messages: [{ role: "user" as const, content: "Tell me about metering streams" }], seed: 9, max_tokens: 20 };

    for (const model of ["gpt-test", "gpt-quiet"]) {
      const full = await srv.client(plain.key).chat.completions.create({ model, ...body });
      const s = await streamText(streamed.key, { model, ...body });
      assert.equal(s.text, full.choices[0]!.message.content, `${model}: same text`);
      assert.equal(s.usage.prompt_tokens, full.usage!.prompt_tokens, `${model}: usage chunk prompt tokens`);
      assert.equal(s.usage.completion_tokens, full.usage!.completion_tokens, `${model}: usage chunk completion tokens`);
    }
    assert.equal(quiet.stats().chat, 2, "the quiet upstream served both");

    const [pTest, sTest, pQuiet, sQuiet] = await rowsFor(srv, [
      [plain.id, "gpt-test"],
      [streamed.id, "gpt-test"],
      [plain.id, "gpt-quiet"],
      [streamed.id, "gpt-quiet"],
    ]);
    for (const [p, s] of [
      [pTest!, sTest!],
      [pQuiet!, sQuiet!],
    ] as const) {
      assert.ok(p.promptTokens > 0 && p.completionTokens > 0, `${p.model}: tokens recorded`);
      assert.ok(p.costUsd > 0, `${p.model}: cost > 0`);
      assert.equal(s.promptTokens, p.promptTokens, `${p.model}: prompt tokens`);
      assert.equal(s.completionTokens, p.completionTokens, `${p.model}: completion tokens`);
      assert.equal(s.costUsd, p.costUsd, `${p.model}: cost`);
      assert.ok(Math.abs(p.costUsd - (p.promptTokens * 2 + p.completionTokens * 8) / 1_000_000) < 1e-12, `${p.model}: cost from the price table`);
    }
    // Counting ourselves gives what the upstream would have reported.
    assert.equal(pQuiet!.promptTokens, pTest!.promptTokens);
    assert.equal(pQuiet!.completionTokens, pTest!.completionTokens);
  });

  test("tool-call answers from an upstream without usage are metered alike streamed and non-streamed", async () => {
    const plain = await newKey(srv, { tenant: "meter-tools" });
    const streamed = await newKey(srv, { tenant: "meter-tools" });
    const body = {
      model: "gpt-quiet",
      messages: [{ role: "user", content: "weather in Oslo?" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
      tool_choice: "required",
    };
    assert.equal((await chat(srv, plain.key, body)).status, 200);
    const s = await postJson(`${srv.url}/v1/chat/completions`, { ...body, stream: true }, auth(streamed.key));
    assert.equal(s.status, 200);
    const [p, st] = await rowsFor(srv, [
      [plain.id, "gpt-quiet"],
      [streamed.id, "gpt-quiet"],
    ]);
    assert.ok(p!.completionTokens > 0, "tool-call tokens are counted");
    assert.equal(st!.promptTokens, p!.promptTokens);
    assert.equal(st!.completionTokens, p!.completionTokens);
    assert.equal(st!.costUsd, p!.costUsd);
  });

  test("accounting is off the response path: requests succeed while the usage table is unwritable, and records are kept", async () => {
    const { id, key } = await newKey(srv, { tenant: "offpath" });
    const db = new Database(join(srv.dataDir, "stratum.db"));
    try {
      db.exec("ALTER TABLE usage RENAME TO usage_away");
      const r = await chat(srv, key, hello("gpt-test"));
      assert.equal(r.status, 200, r.text);
      await eventually(() => srv.logs.some((l) => l.includes("usage flush failed")), 3000, "the failed flush to be logged");
      // Another request is still served while the store is failing.
      assert.equal((await chat(srv, key, hello("gpt-test"))).status, 200);
    } finally {
      db.exec("ALTER TABLE usage_away RENAME TO usage");
      db.close();
    }
    // The queued records are written once the store works again.
    await rowsFor(srv, [[id, "gpt-test"]], 2);
  });
});
