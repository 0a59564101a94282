// Two Stratum servers (replicas) on one PostgreSQL schema: a canary started on
// one is served by both, the per-version stats add up across them, the step
// is decided once, and both serve the promoted version afterwards.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { eventually, simProvider, startSim, startTestServer, type TestServer } from "../testing/harness.js";
import { createTestSchema, postgresTestsEnabled, TEST_POSTGRES_URL, type PgTestSchema } from "../testing/postgres.js";
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

if (postgresTestsEnabled) {
  describe("rollouts across replicas (PostgreSQL)", () => {
    let schema: PgTestSchema;
    let sim: SimUpstream;
    let a: TestServer;
    let b: TestServer;

    before(async () => {
      schema = await createTestSchema({ migrate: false, prefix: "stratum_rollouts" });
      process.env.STRATUM_TEST_ROLLOUTS_PG = TEST_POSTGRES_URL;
      sim = await startSim({ seed: 7 });
      const config = {
        storage: "postgres" as const,
        postgres: { url: "${STRATUM_TEST_ROLLOUTS_PG}", schema: schema.schema, maxConnections: 4 },
        providers: { good: simProvider(sim) },
        models: [
          { name: "good", deployments: [{ provider: "good", model: "m" }] },
          { name: "good2", deployments: [{ provider: "good", model: "m2" }] },
        ],
        cache: { enabled: false },
        pipelines: [{ name: "assistant", collection: "docs", route: "good", retrieval: { minConfidence: 0 } }],
      };
      a = await startTestServer(config);
      b = await startTestServer(config);
      const doc = await call(a, "POST", "/v1/collections/docs/documents", { source: "relay.md", content: "# The relay\n\nThe relay listens on port 7443 and forwards events.\n" });
      assert.ok(doc.status < 300, JSON.stringify(doc.json));
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await sim?.close();
      await schema?.drop();
    });

    test("a canary started on one replica is served, counted and decided across both", async () => {
      // Both replicas seeded the same config: one version, one production alias.
      const entry = await call(b, "GET", "/v1/registry/pipeline/assistant");
      assert.deepEqual(entry.json.versions.map((v: Json) => v.version), [1]);
      const v2 = await call(a, "POST", "/v1/registry/pipeline/assistant/versions", { spec: { collection: "docs", route: "good2", retrieval: { minConfidence: 0 } } });
      assert.equal(v2.json.version, 2);
      const started = await call(b, "POST", "/v1/rollouts", { pipeline: "assistant", strategy: "canary", to_version: 2, steps: [50, 100], hold: { requests: 6 }, thresholds: { min_requests: 6, p95_slack_ms: 60_000 } });
      assert.equal(started.status, 201, JSON.stringify(started.json));
      const id = started.json.id as string;

      const versionsSeen = { a: new Set<number>(), b: new Set<number>() };
      let sent = 0;
      let state: Json;
      for (let i = 0; i < 200; i++) {
        const srv = i % 2 ? b : a;
        // Each replica learns of the rollout within its 1 s cache; until then it serves production.
        const res = await call(srv, "POST", "/v1/chat/completions", { model: "assistant", user: `r-user-${i}`, messages: [{ role: "user", content: "Which port does the relay listen on?" }] });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        versionsSeen[i % 2 ? "b" : "a"].add(res.json.stratum.pipeline_version);
        sent++;
        state = (await call(a, "GET", `/v1/rollouts/${id}`)).json;
        if (state.status !== "running") break;
      }
      assert.equal(state.status, "promoted", JSON.stringify(state.log));
      assert.equal(state.log.filter((l: Json) => l.event === "auto_promote").length, 1, "decided once");
      assert.ok(versionsSeen.a.has(2) && versionsSeen.b.has(2), "both replicas served the candidate");
      assert.ok(state.stats.baseline.requests + state.stats.candidate.requests <= sent);
      assert.ok(state.stats.candidate.requests >= 6 && state.stats.baseline.requests >= 6);
      for (const srv of [a, b]) {
        await eventually(async () => {
          const r = await call(srv, "POST", "/v1/chat/completions", { model: "assistant", messages: [{ role: "user", content: "Which port?" }] });
          return r.json.stratum?.pipeline_version === 2;
        }, 10_000, "both replicas to serve the promoted version");
      }
    });
  });
}
