// Drift through real HTTP: traffic with short then long questions to a
// pipeline, the reference from the first window, a stable window that raises
// nothing, a shifted one that alerts once (metric, webhook, re-evaluation
// stored as an eval run), pinning, hostile input, and the reference kept
// across a restart on the same data dir.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../core/seeded-random.js";
import { SqliteEvalStore } from "../evals/index.js";
import type { ConfigInput } from "../config/schema.js";
import { eventually, postJson, startTestServer, type TestServer } from "../testing/harness.js";

const WORDS = "how do i configure the gateway port timeout retries cache keys budget session documents collection search answer model route fallback limit".split(" ");

/** A question of `min`..`max` characters from a seeded PRNG. */
function question(rnd: () => number, min: number, max: number): string {
  const target = min + Math.floor(rnd() * (max - min + 1));
  let q = "";
  while (q.length < target) q += (q ? " " : "") + WORDS[Math.floor(rnd() * WORDS.length)];
  return q.slice(0, target).trimEnd() + "?";
}

interface Hook {
  server: Server;
  url: string;
  bodies: Array<Record<string, any>>;
}

async function startHook(): Promise<Hook> {
  const bodies: Array<Record<string, any>> = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(body) as Record<string, any>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies };
}

describe("drift over HTTP", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "stratum-drift-"));
  const dataset = join(dataDir, "drift-eval.jsonl");
  let hook: Hook;
  let t: TestServer;
  let config: ConfigInput;

  const auth = () => ({ authorization: `Bearer ${t.adminKey}` });
  const get = async (path: string, key = t.adminKey) => {
    const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    return { status: res.status, json: (await res.json()) as any };
  };
  const signal = (report: any, name: string) => report.signals.find((s: any) => s.name === name);

  /** Sends `n` questions and waits until the monitor has seen them all. */
  async function traffic(seed: number, n: number, min: number, max: number) {
    const rnd = seededRandom(seed);
    const before = await seen();
    for (let i = 0; i < n; i += 4) {
      await Promise.all(
        Array.from({ length: Math.min(4, n - i) }, async () => {
          const r = await postJson(`${t.url}/v1/chat/completions`, { model: "assistant", messages: [{ role: "user", content: question(rnd, min, max) }] }, auth());
          assert.equal(r.status, 200, r.text);
        }),
      );
    }
    await eventually(async () => (await seen()) === before + n, 5_000, "the monitor to see the traffic");
  }

  /** Turns the monitor has recorded for the pipeline since the server started. */
  async function seen(): Promise<number> {
    return signal((await get("/v1/drift")).json, "abstained:assistant")?.observed ?? 0;
  }

  before(async () => {
    hook = await startHook();
    writeFileSync(dataset, ['{"id":"a","messages":[{"role":"user","content":"Which port?"}],"expected":"8787"}', '{"id":"b","input":"What timeout?","facts":["timeout"]}'].join("\n"));
    config = {
      pipelines: [{ name: "assistant" }],
      drift: { windowSize: 60, minSamples: 40, bins: 5, checkIntervalSeconds: 3600, webhookUrl: hook.url, reevaluate: { dataset, pipeline: "assistant" } },
    };
    t = await startTestServer(config, { dataDir });
  });

  after(async () => {
    await t?.close();
    hook?.server.closeAllConnections();
    await new Promise((r) => hook?.server.close(r));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("the first window becomes the reference; a stable window (other seed) raises nothing", async () => {
    await traffic(1, 60, 20, 60);
    const ref = signal((await get("/v1/drift")).json, "query_chars:assistant");
    assert.equal(ref.reference.n, 60);
    assert.equal(ref.reference_origin, "first_window");
    assert.equal(ref.status, "collecting"); // the current window starts empty

    await traffic(2, 60, 20, 60);
    const res = await postJson(`${t.url}/v1/drift/check`, {}, auth());
    assert.equal(res.status, 200, res.text);
    assert.equal(typeof res.json.updated_at, "number");
    // Every signal this traffic controls is stable (latency depends on the machine, so it is not judged here).
    for (const name of ["query_chars", "language", "abstained", "retrieval_confidence", "status", "cost_usd", "output_tokens"]) {
      const s = signal(res.json, `${name}:assistant`);
      assert.ok(s, name);
      assert.equal(s.status, "stable", `${name}: ${JSON.stringify(s)}`);
      assert.equal(s.alert, false);
    }
    const q = signal(res.json, "query_chars:assistant");
    assert.deepEqual(Object.keys(q.reference).sort(), ["mean", "n", "p50", "p95"]);
    assert.deepEqual(q.thresholds, { psi: 0.2, ks_p_value: 0.01, min_samples: 40, require: "both" });
    // Questions without a stopword are undetermined; the mix is what is compared.
    assert.ok(Object.keys(signal(res.json, "language:assistant").current.shares).every((l) => l === "en" || l === "und"));
    assert.equal(signal(res.json, "abstained:assistant").current.mean, 1); // no documents: every turn abstains
    assert.equal(hook.bodies.filter((b) => b.signal === "query_chars:assistant").length, 0);
  });

  test("a shifted window (long questions) alerts once: metric, webhook, re-evaluation; no storm", async () => {
    await traffic(3, 60, 200, 400);
    const res = await postJson(`${t.url}/v1/drift/check`, {}, auth());
    const q = signal(res.json, "query_chars:assistant");
    assert.equal(q.status, "drift", JSON.stringify(q));
    assert.equal(q.alert, true);
    assert.equal(q.alerting, true);
    assert.ok(q.psi > 0.2 && q.ks.p_value < 0.01 && q.current.mean > 200, JSON.stringify(q));

    const alert = (await eventually(() => hook.bodies.find((b) => b.signal === "query_chars:assistant"), 5_000, "the webhook"))!;
    assert.equal(alert.type, "drift.alert");
    assert.equal(alert.psi, q.psi);
    assert.deepEqual(alert.ks, q.ks);
    assert.equal(alert.reference_n, 60);
    assert.equal(alert.current_n, 60);
    assert.equal(alert.window_size, 60);

    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`stratum_drift_psi\\{signal="query_chars:assistant"\\} ${q.psi}`));
    assert.match(metrics, /stratum_drift_ks\{signal="query_chars:assistant"\} 1/);
    assert.match(metrics, /stratum_drift_alerts_total\{signal="query_chars:assistant"\} 1/);
    assert.ok(t.logs.some((l) => l.includes('"msg":"drift detected"') && l.includes("query_chars:assistant")));

    // The re-evaluation ran the dataset against the pipeline through the evals runner and stored the run.
    const store = new SqliteEvalStore(join(dataDir, "stratum.db"));
    const run = (await eventually(async () => (await store.list()).find((r) => r.model === "assistant"), 10_000, "the re-evaluation run"))!;
    assert.equal(run.itemCount, 2);
    assert.equal(run.errorCount, 0);
    store.close();

    // Still drifted: checks do not alert again.
    await postJson(`${t.url}/v1/drift/check`, {}, auth());
    await postJson(`${t.url}/v1/drift/check`, {}, auth());
    assert.equal(hook.bodies.filter((b) => b.signal === "query_chars:assistant").length, 1);
    assert.match(await (await fetch(`${t.url}/metrics`)).text(), /stratum_drift_alerts_total\{signal="query_chars:assistant"\} 1/);
  });

  test("hostile or unauthorised requests get a clear 4xx", async () => {
    const user = await t.createKey({ tenant: "acme" });
    assert.equal((await get("/v1/drift", user)).status, 403);
    assert.equal((await fetch(`${t.url}/v1/drift`)).status, 401);
    assert.equal((await postJson(`${t.url}/v1/drift/reference`, {}, { authorization: `Bearer ${user}` })).status, 403);
    const bad: unknown[] = [{ signals: "query_chars:assistant" }, { signals: [] }, { signals: [""] }, { signals: ["x".repeat(301)] }, { signals: [1] }, { extra: true }, [], "null", "{", { signals: Array(1001).fill("a") }];
    for (const body of bad) {
      const r = await postJson(`${t.url}/v1/drift/reference`, body, auth());
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 60)} → ${r.status} ${r.text.slice(0, 200)}`);
      assert.equal(typeof r.json?.error?.message, "string");
    }
    const unknown = await postJson(`${t.url}/v1/drift/reference`, { signals: ["nope:assistant"] }, auth());
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.error.code, "signal_not_found");
    for (const qs of ["?bogus=1", "?signal=a&signal=b", `?scope=${"s".repeat(300)}`]) assert.equal((await get(`/v1/drift${qs}`)).status, 400, qs);
    const only = (await get("/v1/drift?scope=assistant&signal=query_chars")).json;
    assert.deepEqual(only.signals.map((s: any) => s.name), ["query_chars:assistant"]);
  });

  test("pinning makes the current window the reference, and a restart on the same data dir keeps it", async () => {
    const pin = await postJson(`${t.url}/v1/drift/reference`, { signals: ["query_chars:assistant"] }, auth());
    assert.equal(pin.status, 200, pin.text);
    assert.deepEqual(pin.json.pinned, ["query_chars:assistant"]);
    const pinned = signal(pin.json, "query_chars:assistant");
    assert.equal(pinned.reference_origin, "pinned");
    assert.equal(pinned.alerting, false);
    assert.equal(pinned.current.n, 0);
    assert.ok(pinned.reference.mean > 200);

    await t.close();
    t = await startTestServer(config, { dataDir });
    const after = signal((await get("/v1/drift")).json, "query_chars:assistant");
    assert.deepEqual(after.reference, pinned.reference);
    assert.equal(after.reference_origin, "pinned");
    assert.equal(after.reference_at, pinned.reference_at);
    const lang = signal((await get("/v1/drift")).json, "language:assistant");
    assert.equal(lang.reference.n, 60);
  });

  test("with drift off the API says so", async () => {
    const off = await startTestServer({ drift: { enabled: false } });
    try {
      const r = await fetch(`${off.url}/v1/drift`, { headers: { authorization: `Bearer ${off.adminKey}` } });
      assert.equal(r.status, 404);
      assert.equal(((await r.json()) as any).error.code, "drift_disabled");
    } finally {
      await off.close();
    }
  });
});
