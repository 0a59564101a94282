// Registry and rollouts over real HTTP with sim upstreams: immutable versions
// with hash dedup and aliases, name@N / name@alias addressing, blue-green
// switch and instant switch back, a canary that promotes a healthy candidate
// and one that rolls back a failing one (request-count holds, no timing), users
// sticking to their side, and shadow traffic that never changes the answers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startSim, simProvider, startTestServer, eventually, type TestServer } from "../testing/harness.js";
import type { SimUpstream } from "../sim/server.js";

type Json = any;

async function call(srv: TestServer, method: string, path: string, body?: unknown, key = srv.adminKey): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const DOCS = [
  { source: "relay.md", content: "# The relay\n\nThe relay forwards events from producers to subscribers over WebSockets. The relay listens on port 7443.\n" },
  { source: "billing.md", content: "# Billing\n\nInvoices are issued on the first business day of each month. Payment is due within thirty days.\n" },
];
const QUESTIONS = ["Which port does the relay listen on?", "When are invoices issued?", "What does the relay forward?", "When is payment due?"];

async function seedDocs(srv: TestServer): Promise<void> {
  for (const d of DOCS) assert.ok((await call(srv, "POST", "/v1/collections/docs/documents", d)).status < 300);
}

const ask = (srv: TestServer, model: string, content: string, user?: string) =>
  call(srv, "POST", "/v1/chat/completions", { model, messages: [{ role: "user", content }], ...(user ? { user } : {}) });

function pipelineSpec(route: string, k = 5) {
  return { collection: "docs", route, retrieval: { minConfidence: 0, k } };
}

describe("registry and rollouts over HTTP", () => {
  let good: SimUpstream;
  let bad: SimUpstream;
  let srv: TestServer;

  before(async () => {
    good = await startSim({ seed: 1 });
    bad = await startSim({ seed: 2, errorRate: 1 });
    srv = await startTestServer({
      providers: { good: simProvider(good), bad: simProvider(bad) },
      models: [
        { name: "good", deployments: [{ provider: "good", model: "m" }] },
        { name: "good2", deployments: [{ provider: "good", model: "m2" }] },
        { name: "bad", deployments: [{ provider: "bad", model: "m" }], extractiveFallback: false },
      ],
      router: { retry: { maxAttempts: 1 } },
      cache: { enabled: false },
      pipelines: [{ name: "assistant", ...pipelineSpec("good") }],
    });
    await seedDocs(srv);
  });
  after(async () => {
    await srv.close();
    await good.close();
    await bad.close();
  });

  test("the config's pipeline is version 1 behind production; versions are immutable, deduplicated by hash; aliases move", async () => {
    const list = await call(srv, "GET", "/v1/registry");
    assert.equal(list.status, 200);
    const entry = list.json.data.find((e: Json) => e.kind === "pipeline" && e.name === "assistant");
    assert.deepEqual(entry, { object: "registry.entry", kind: "pipeline", name: "assistant", latest_version: 1, aliases: { config: 1, production: 1 } });

    const v2 = await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("good2"), note: "second route" });
    assert.equal(v2.status, 201, JSON.stringify(v2.json));
    assert.equal(v2.json.version, 2);
    assert.equal(v2.json.parent_version, 1);
    assert.match(v2.json.hash, /^[0-9a-f]{64}$/);
    assert.equal(v2.json.note, "second route");
    const dup = await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: { retrieval: { k: 5, minConfidence: 0 }, route: "good2", collection: "docs" } });
    assert.equal(dup.status, 200);
    assert.equal(dup.json.version, 2);
    assert.equal(dup.json.created, false);

    const badRoute = await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("nope") });
    assert.equal(badRoute.status, 400);
    assert.equal(badRoute.json.error.param, "spec.route");
    assert.equal((await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: [] })).json.error.param, "spec");
    assert.equal((await call(srv, "POST", "/v1/registry/widget/x/versions", { spec: {} })).json.error.param, "kind");
    assert.equal((await call(srv, "PUT", "/v1/registry/pipeline/assistant/aliases/staging", { version: "2" })).json.error.param, "version");
    assert.equal((await call(srv, "PUT", "/v1/registry/pipeline/assistant/aliases/staging", { version: 9 })).status, 404);
    const userKey = await srv.createKey({ tenant: "acme" });
    assert.equal((await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("good") }, userKey)).status, 403);
    assert.equal((await call(srv, "GET", "/v1/registry/pipeline/assistant", undefined, userKey)).status, 200, "reads need any key");

    const alias = await call(srv, "PUT", "/v1/registry/pipeline/assistant/aliases/staging", { version: 2 });
    assert.equal(alias.status, 200);
    assert.deepEqual(alias.json.aliases, { config: 1, production: 1, staging: 2 });
    const link = await call(srv, "POST", "/v1/registry/pipeline/assistant/versions/2/eval-runs", { run_id: "run_123" });
    assert.deepEqual(link.json.eval_runs, ["run_123"]);

    const full = await call(srv, "GET", "/v1/registry/pipeline/assistant");
    assert.deepEqual(full.json.versions.map((v: Json) => [v.version, v.spec.route, v.created_by]), [[1, "good", "config"], [2, "good2", link.json.created_by]]);
    assert.equal((await call(srv, "GET", "/v1/registry/pipeline/nothing")).status, 404);
  });

  test("assistant@N and assistant@alias address a version; plain assistant is production", async () => {
    const plain = await ask(srv, "assistant", QUESTIONS[0]!);
    assert.equal(plain.status, 200, JSON.stringify(plain.json));
    assert.equal(plain.json.stratum.pipeline_version, 1);
    assert.equal((await ask(srv, "assistant@2", QUESTIONS[0]!)).json.stratum.pipeline_version, 2);
    assert.equal((await ask(srv, "assistant@staging", QUESTIONS[0]!)).json.stratum.pipeline_version, 2);
    const missing = await ask(srv, "assistant@9", QUESTIONS[0]!);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.param, "model");
    assert.equal((await ask(srv, "assistant@nowhere", QUESTIONS[0]!)).status, 404);
    // Streams carry the version on the finishing chunk.
    const stream = await srv.client().chat.completions.create({ model: "assistant@2", stream: true, messages: [{ role: "user", content: QUESTIONS[1]! }] });
    let version: unknown;
    for await (const chunk of stream) if ((chunk as Json).stratum?.pipeline_version !== undefined) version = (chunk as Json).stratum.pipeline_version;
    assert.equal(version, 2);
  });

  test("blue-green switches production at once and switches back instantly", async () => {
    const started = await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "blue-green", to_version: 2 });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    assert.equal(started.json.status, "promoted");
    assert.equal(started.json.traffic_percent, 100);
    assert.equal((await ask(srv, "assistant", QUESTIONS[2]!)).json.stratum.pipeline_version, 2);
    const back = await call(srv, "POST", `/v1/rollouts/${started.json.id}/rollback`);
    assert.equal(back.status, 200);
    assert.equal(back.json.status, "rolled_back");
    assert.deepEqual(back.json.log.map((l: Json) => l.event), ["switched", "rolled_back"]);
    assert.equal((await ask(srv, "assistant", QUESTIONS[2]!)).json.stratum.pipeline_version, 1, "the very next request is on the old version");
    assert.equal((await call(srv, "POST", `/v1/rollouts/${started.json.id}/rollback`)).status, 400, "nothing left to roll back");
  });

  test("bad rollout input is a 400 naming the field", async () => {
    const cases: Array<[unknown, string]> = [
      [{ pipeline: "assistant", strategy: "zigzag", to_version: 2 }, "strategy"],
      [{ pipeline: "assistant", strategy: "canary", to_version: 0 }, "to_version"],
      [{ pipeline: "assistant", strategy: "canary", to_version: 2, steps: [50, 10] }, "steps.1"],
      [{ pipeline: "assistant", strategy: "canary", to_version: 1 }, "to_version"],
      [{ pipeline: "assistant", strategy: "canary", to_version: 2, alias: "nothing" }, "alias"],
      [{ pipeline: "assistant", strategy: "canary", to_version: 2, thresholds: { max_p95_ratio: 0.5 } }, "thresholds.max_p95_ratio"],
    ];
    for (const [body, param] of cases) {
      const r = await call(srv, "POST", "/v1/rollouts", body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
      assert.equal(r.json.error.param, param);
    }
    assert.equal((await call(srv, "POST", "/v1/rollouts", { pipeline: "ghost", strategy: "canary", to_version: 2 })).status, 404);
    // Registry input, hostile or malformed: a 400 naming the field, never a crash.
    const registryCases: Array<[string, string, unknown, string]> = [
      ["PUT", "/v1/registry/pipeline/assistant/aliases/123", { version: 1 }, "alias"],
      ["PUT", "/v1/registry/pipeline/assistant/aliases/a%20b", { version: 1 }, "alias"],
      ["GET", "/v1/registry?kind=bogus", undefined, "kind"],
      ["POST", "/v1/registry/pipeline/assistant/versions", { spec: { route: "good" }, parent_version: 99 }, "parent_version"],
      ["POST", "/v1/registry/pipeline/assistant/versions", { spec: { route: "good" }, parent_version: -1 }, "parent_version"],
      ["POST", "/v1/registry/pipeline/assistant/versions", { spec: { retrieval: { k: "many" } } }, "spec.retrieval.k"],
      ["POST", "/v1/registry/pipeline/assistant/versions/abc/eval-runs", { run_id: "r" }, "version"],
      ["POST", "/v1/registry/pipeline/assistant/versions/1/eval-runs", { run_id: "" }, "run_id"],
      ["POST", "/v1/rollouts/ro_x/rollback", [], ""],
      ["GET", "/v1/rollouts/ro_x/shadow?limit=abc", undefined, "limit"],
    ];
    for (const [method, path, body, param] of registryCases) {
      const r = await call(srv, method, path, body);
      assert.equal(r.status, 400, `${method} ${path} → ${r.status} ${JSON.stringify(r.json)}`);
      if (param) assert.equal(r.json.error.param, param, `${method} ${path}`);
    }
    assert.equal((await call(srv, "GET", "/v1/rollouts/ro_missing")).status, 404);
  });

  test("canary: users stick to their side; a second rollout of the pipeline is refused", async () => {
    const r = await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "canary", to_version: 2, steps: [50], hold: { requests: 100_000 } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    assert.deepEqual(r.json.steps, [50, 100]);
    assert.equal(r.json.traffic_percent, 50);
    assert.equal((await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "shadow", to_version: 2 })).json.error.code, "rollout_in_progress");
    const seen = new Map<string, number>();
    for (let round = 0; round < 2; round++) {
      for (let u = 0; u < 16; u++) {
        const res = await ask(srv, "assistant", QUESTIONS[u % QUESTIONS.length]!, `sticky-${u}`);
        assert.equal(res.status, 200);
        const v = res.json.stratum.pipeline_version as number;
        if (round === 0) seen.set(`sticky-${u}`, v);
        else assert.equal(v, seen.get(`sticky-${u}`), `sticky-${u} changed sides`);
      }
    }
    const versions = new Set(seen.values());
    assert.deepEqual([...versions].sort(), [1, 2], "both sides served");
    const state = await call(srv, "GET", `/v1/rollouts/${r.json.id}`);
    assert.equal(state.json.stats.baseline.requests + state.json.stats.candidate.requests, 32);
    assert.equal((await call(srv, "POST", `/v1/rollouts/${r.json.id}/rollback`, { reason: "test over" })).json.status, "rolled_back");
  });

  /** Sends requests from distinct users until the rollout leaves "running" (or `max` requests). */
  async function driveCanary(id: string, max: number): Promise<{ rollout: Json; statuses: number[] }> {
    const statuses: number[] = [];
    for (let i = 0; i < max; i++) {
      const res = await ask(srv, "assistant", QUESTIONS[i % QUESTIONS.length]!, `user-${id}-${i}`);
      statuses.push(res.status);
      const r = await eventually(async () => {
        const got = await call(srv, "GET", `/v1/rollouts/${id}`);
        // Samples are recorded just after the response; wait until this one is counted.
        return got.json.stats.baseline.requests + got.json.stats.candidate.requests >= i + 1 || got.json.status !== "running" ? got.json : undefined;
      }, 5_000, "the sample to be recorded");
      if (r.status !== "running") return { rollout: r, statuses };
    }
    return { rollout: (await call(srv, "GET", `/v1/rollouts/${id}`)).json, statuses };
  }

  test("canary promotes a healthy candidate step by step to 100%", async () => {
    const v3 = await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("good", 4), note: "healthy candidate" });
    assert.equal(v3.json.version, 3);
    const r = await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "canary", to_version: 3, steps: [25, 50, 100], hold: { requests: 6 }, thresholds: { min_requests: 6, p95_slack_ms: 60_000 } });
    // (Latency is not what this test is about: a busy machine must not turn one slow request into a rollback.)
    assert.equal(r.status, 201);
    const { rollout, statuses } = await driveCanary(r.json.id, 200);
    assert.ok(statuses.every((s) => s === 200), `all answered: ${statuses.filter((s) => s !== 200).length} failed`);
    assert.equal(rollout.status, "promoted", JSON.stringify(rollout.log));
    assert.deepEqual(rollout.log.map((l: Json) => l.event), ["started", "step", "auto_promote"]);
    const decision = rollout.log.at(-1);
    assert.equal(decision.numbers.candidate_error_rate, 0);
    assert.ok(decision.numbers.candidate_requests >= 6 && decision.numbers.baseline_requests >= 6);
    assert.equal(rollout.stats.candidate.errors, 0);
    assert.equal((await call(srv, "GET", "/v1/registry/pipeline/assistant")).json.aliases.production, 3);
    assert.equal((await ask(srv, "assistant", QUESTIONS[0]!, "anyone")).json.stratum.pipeline_version, 3);
    assert.ok(srv.logs.some((l) => l.includes('"event":"auto_promote"')), "the decision is a structured log line");
  });

  test("canary rolls back a candidate whose route fails, with the numbers that drove it", async () => {
    const v4 = await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("bad"), note: "broken upstream" });
    assert.equal(v4.json.version, 4);
    const r = await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "canary", to_version: 4, steps: [50, 100], hold: { requests: 6 }, thresholds: { min_requests: 6 } });
    const { rollout, statuses } = await driveCanary(r.json.id, 200);
    assert.equal(rollout.status, "rolled_back", JSON.stringify(rollout.log));
    const decision = rollout.log.at(-1);
    assert.equal(decision.event, "auto_rollback");
    assert.equal(decision.numbers.candidate_error_rate, 1);
    assert.equal(decision.numbers.baseline_error_rate, 0);
    assert.match(decision.message, /error rate 1 vs 0/);
    assert.ok(statuses.some((s) => s >= 500), "the candidate's users saw its failures");
    assert.equal((await call(srv, "GET", "/v1/registry/pipeline/assistant")).json.aliases.production, 3, "production never moved");
    for (let i = 0; i < 6; i++) assert.equal((await ask(srv, "assistant", QUESTIONS[i % 4]!, `user-${r.json.id}-${i}`)).json.stratum.pipeline_version, 3);
    const listed = await call(srv, "GET", "/v1/rollouts?pipeline=assistant&status=rolled_back");
    assert.ok(listed.json.data.some((x: Json) => x.id === r.json.id));
    assert.equal((await call(srv, "GET", "/v1/rollouts?status=nope")).json.error.param, "status");
  });
});

describe("shadow rollouts over HTTP", () => {
  let good: SimUpstream;
  let bad: SimUpstream;
  let srv: TestServer;

  before(async () => {
    good = await startSim({ seed: 3 });
    bad = await startSim({ seed: 4, errorRate: 1 });
    srv = await startTestServer({
      providers: { good: simProvider(good), bad: simProvider(bad) },
      models: [
        { name: "good", deployments: [{ provider: "good", model: "m" }] },
        { name: "bad", deployments: [{ provider: "bad", model: "m" }], extractiveFallback: false },
      ],
      router: { retry: { maxAttempts: 1 } },
      cache: { enabled: false },
      pipelines: [{ name: "assistant", ...pipelineSpec("extractive") }],
    });
    await seedDocs(srv);
  });
  after(async () => {
    await srv.close();
    await good.close();
    await bad.close();
  });

  /** The parts of answers a user sees (ids and timestamps differ per call by design). */
  async function answers(shadowOf?: string): Promise<string[]> {
    const out: string[] = [];
    // With a shadow running, wait for each mirror before the next request: mirrors beyond the
    // concurrency bound are skipped by design, and this test wants one per request.
    const mirrored = async (n: number) => {
      if (!shadowOf) return;
      await eventually(async () => (await call(srv, "GET", `/v1/rollouts/${shadowOf}/shadow`)).json.data.length >= n, 10_000, `shadow comparison ${n}`);
    };
    for (const [i, q] of QUESTIONS.entries()) {
      const r = await ask(srv, "assistant", q);
      assert.equal(r.status, 200);
      out.push(JSON.stringify({ content: r.json.choices[0].message.content, finish: r.json.choices[0].finish_reason, citations: r.json.stratum.citations, version: r.json.stratum.pipeline_version }));
      await mirrored(i + 1);
    }
    let streamed = "";
    const stream = await srv.client().chat.completions.create({ model: "assistant", stream: true, messages: [{ role: "user", content: QUESTIONS[0]! }] });
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta?.content ?? "";
    out.push(streamed);
    await mirrored(QUESTIONS.length + 1);
    return out;
  }

  test("a shadow never changes the answers, survives a failing candidate, and stores comparisons", async () => {
    const before = await answers();
    assert.equal((await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("good") })).json.version, 2);
    assert.equal((await call(srv, "POST", "/v1/registry/pipeline/assistant/versions", { spec: pipelineSpec("bad") })).json.version, 3);

    const healthy = await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "shadow", to_version: 2 });
    assert.equal(healthy.status, 201);
    assert.equal(healthy.json.traffic_percent, 0);
    assert.deepEqual(await answers(healthy.json.id), before, "byte-identical answers with a shadow running");
    const compared = await eventually(async () => {
      const r = await call(srv, "GET", `/v1/rollouts/${healthy.json.id}/shadow?limit=50`);
      return r.json.data.length >= 5 ? r.json.data : undefined;
    }, 10_000, "five shadow comparisons");
    for (const c of compared) {
      assert.equal(c.candidate.error, undefined);
      assert.ok(c.candidate.text.length > 0);
      assert.ok(c.baseline.text.length > 0);
      assert.ok(c.metrics.token_f1 >= 0 && c.metrics.token_f1 <= 1);
      assert.ok(c.metrics.exact_match === 0 || c.metrics.exact_match === 1);
      assert.equal(typeof c.metrics.latency_delta_ms, "number");
    }
    assert.equal((await call(srv, "POST", `/v1/rollouts/${healthy.json.id}/rollback`)).json.status, "rolled_back");

    const failing = await call(srv, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "shadow", to_version: 3 });
    assert.deepEqual(await answers(failing.json.id), before, "byte-identical answers with a failing shadow");
    const failed = await eventually(async () => {
      const r = await call(srv, "GET", `/v1/rollouts/${failing.json.id}/shadow`);
      return r.json.data.length >= 5 ? r.json.data : undefined;
    }, 10_000, "five failed shadow comparisons");
    assert.ok(failed.every((c: Json) => typeof c.candidate.error === "string" && c.candidate.text === ""));
    const state = await call(srv, "GET", `/v1/rollouts/${failing.json.id}`);
    assert.equal(state.json.stats.candidate.error_rate, 1);
    assert.equal(state.json.stats.baseline.error_rate, 0);
    assert.equal((await ask(srv, "assistant", QUESTIONS[1]!)).status, 200, "the server still serves");
    const promoted = await call(srv, "POST", `/v1/rollouts/${failing.json.id}/promote`);
    assert.equal(promoted.json.status, "promoted");
    assert.equal((await call(srv, "GET", "/v1/registry/pipeline/assistant")).json.aliases.production, 3);
  });
});
