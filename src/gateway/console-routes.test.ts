// The routes the web console adds, over real HTTP: who am I, the stats
// snapshot (admin), eval runs (admin: list, one, compare; 404 and 400 on bad
// input), and the console's static serving when the bundle is missing or present.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { startTestServer, type TestServer } from "../testing/harness.js";
import { SqliteEvalStore, type EvalRun } from "../evals/index.js";
import { consoleRoutes } from "./routes/console.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

function run(id: string, scores: number[], createdAt: number): EvalRun {
  const items = scores.map((s, i) => ({ id: `q${i}`, input: `q${i}?`, output: s ? "yes" : "no", metrics: { exact_match: s }, latencyMs: 10 }));
  return { id, createdAt, model: "assistant", baseUrl: "http://x", dataset: "d.jsonl", itemCount: items.length, errorCount: 0, durationMs: 5, summary: { exact_match: { mean: scores.reduce((a, b) => a + b, 0) / scores.length, n: scores.length } }, items };
}

describe("console routes", () => {
  let srv: TestServer;
  let userKey: string;
  const get = async (path: string, key = srv.adminKey) => {
    const res = await fetch(`${srv.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, json: (await res.json()) as Json };
  };
  before(async () => {
    srv = await startTestServer({ models: [{ name: "sim", deployments: [{ provider: "sim" }] }] });
    userKey = await srv.createKey({ tenant: "acme", name: "u" });
    const store = new SqliteEvalStore(join(srv.dataDir, "stratum.db"));
    await store.save(run("base", [1, 0, 0, 1], 1_000));
    await store.save(run("cand", [1, 1, 1, 1], 2_000));
    store.close();
  });
  after(() => srv.close());

  test("GET /v1/me names the key's tenant and role; 401 without a key", async () => {
    const admin = await get("/v1/me");
    assert.equal(admin.status, 200);
    assert.equal(admin.json.role, "admin");
    assert.equal(admin.json.features.evals, true);
    const user = await get("/v1/me", userKey);
    assert.deepEqual([user.json.tenant, user.json.role], ["acme", "user"]);
    assert.equal((await fetch(`${srv.url}/v1/me`)).status, 401);
  });

  test("GET /v1/stats: admin only; counters and histogram buckets as JSON", async () => {
    await srv.client().chat.completions.create({ model: "sim", messages: [{ role: "user", content: "hi" }] });
    const s = await get("/v1/stats");
    assert.equal(s.status, 200);
    assert.equal(typeof s.json.at, "number");
    const requests = s.json.metrics.find((m: Json) => m.name === "stratum_requests_total");
    assert.ok(requests.values.some((v: Json) => v.labels.route === "/v1/chat/completions" && v.labels.model === "sim" && v.value >= 1));
    const latency = s.json.metrics.find((m: Json) => m.name === "stratum_request_duration_seconds");
    assert.ok(latency.values.some((v: Json) => v.metric === "stratum_request_duration_seconds_bucket" && v.labels.le === "+Inf"));
    assert.ok(!s.json.metrics.some((m: Json) => m.name === "stratum_process_heap_bytes"), "most process metrics stay on /metrics");
    assert.equal((await get("/v1/stats", userKey)).status, 403);
  });

  test("eval runs: list, one with items, a comparison with the paired interval; clear errors", async () => {
    const list = await get("/v1/evals");
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.data.map((r: Json) => r.id), ["cand", "base"]);
    assert.equal(list.json.data[0].items, undefined, "the list has no items");
    const one = await get("/v1/evals/base");
    assert.equal(one.json.items.length, 4);
    const cmp = await get("/v1/evals/compare?base=base&candidate=cand");
    assert.equal(cmp.status, 200);
    const em = cmp.json.metrics.find((m: Json) => m.metric === "exact_match");
    assert.equal(em.diff.mean, 0.5);
    assert.ok(em.diff.low <= em.diff.mean && em.diff.mean <= em.diff.high);
    assert.equal(cmp.json.items.length, 4);
    const missing = await get("/v1/evals/nope");
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, "eval_run_not_found");
    const noCand = await get("/v1/evals/compare?base=base");
    assert.equal(noCand.status, 400);
    assert.equal(noCand.json.error.param, "candidate");
    assert.equal((await get("/v1/evals/compare?base=base&candidate=nope")).json.error.param, "candidate");
    assert.equal((await get("/v1/evals", userKey)).status, 403, "runs are not tenant-scoped: admin only");
  });
});

describe("console static serving", () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-console-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("without a build, / says how to build; after one, index and assets are served with their cache headers", async () => {
    const app = Fastify();
    consoleRoutes(app, { dir });
    const missing = await app.inject({ url: "/" });
    assert.equal(missing.statusCode, 503);
    assert.match(missing.body, /npm run build:web/);
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), '<!doctype html><div id="app"></div>');
    writeFileSync(join(dir, "assets", "app-ABC.js"), "console.log(1)");
    const index = await app.inject({ url: "/chat?x=1", headers: { accept: "text/html" } });
    assert.equal(index.statusCode, 200, "picked up without a restart");
    assert.equal(index.headers["cache-control"], "no-cache");
    const js = await app.inject({ url: "/assets/app-ABC.js" });
    assert.match(String(js.headers["content-type"]), /javascript/);
    assert.match(String(js.headers["cache-control"]), /immutable/);
    // Assets come from the files read at load, by exact name: no path reaches outside the bundle.
    assert.notEqual((await app.inject({ url: "/chat" })).statusCode, 200, "no HTML asked for: not the app");
    for (const url of ["/assets/..%2findex.html", "/assets/..%2f..%2fpackage.json", "/assets/nope.js", "/v1/unknown", "/admin/x"]) {
      assert.notEqual((await app.inject({ url })).statusCode, 200, url);
    }
    await app.close();
  });
});
