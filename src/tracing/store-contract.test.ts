// The TraceStore contract, run against SQLite and (when a server is there)
// PostgreSQL in a fresh schema.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../data/index.js";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { PgTraceStore } from "./postgres/trace-store.js";
import { SqliteTraceStore } from "./sqlite/trace-store.js";
import type { StoredSpan, TraceStore, TraceSummaryPatch } from "./types.js";

const T0 = 1_764_000_000_000;

function span(traceId: string, spanId: string, name: string, start: number, parent?: string, attrs: Record<string, unknown> = {}): StoredSpan {
  return { traceId, spanId, name, startMs: start, endMs: start + 5, status: "ok", attributes: attrs, events: [], ...(parent ? { parentSpanId: parent } : {}) };
}

function root(traceId: string, start: number, extra: Partial<TraceSummaryPatch> = {}): TraceSummaryPatch {
  return { traceId, startedAt: start, root: { name: "gateway.request", durationMs: 12, status: "ok" }, tenant: "t1", model: "m", ...extra };
}

function traceStoreContract(name: string, make: () => Promise<TraceStore>): void {
  describe(`TraceStore contract: ${name}`, () => {
    test("a trace's spans and merged summary round-trip, whatever order the patches came in", async () => {
      const s = await make();
      const id = "a".repeat(32);
      // The child (naming the pipeline) arrives before the root.
      await s.write({ spans: [span(id, "c1", "pipeline.retrieval", T0 + 2, "r1", { hits: 3, nested: { ok: true } })], summaries: [{ traceId: id, startedAt: T0 + 2, pipeline: "assistant", pipelineVersion: 3 }] });
      assert.equal(await s.get(id), undefined, "no root yet: not listed");
      await s.write({ spans: [span(id, "r1", "gateway.request", T0)], summaries: [root(id, T0, { sessionId: "s1", user: "u1", httpStatus: 200 })] });
      await s.write({ spans: [], summaries: [{ traceId: id, startedAt: T0 + 50, tokensIn: 10, tokensOut: 4, costUsd: 0.0012 }] });
      const got = await s.get(id);
      assert.deepEqual(got, {
        traceId: id,
        name: "gateway.request",
        startedAt: T0,
        durationMs: 12,
        status: "ok",
        tenant: "t1",
        model: "m",
        pipeline: "assistant",
        pipelineVersion: 3,
        sessionId: "s1",
        user: "u1",
        httpStatus: 200,
        tokensIn: 10,
        tokensOut: 4,
        costUsd: 0.0012,
        spanCount: 2,
      });
      const spans = await s.spans(id);
      assert.deepEqual(spans.map((x) => x.spanId), ["r1", "c1"]);
      assert.deepEqual(spans[1]!.attributes, { hits: 3, nested: { ok: true } });
      assert.equal(spans[1]!.parentSpanId, "r1");
      assert.equal(await s.get(id, "other-tenant"), undefined);
    });

    test("list filters by tenant, time, model, status and session, newest first, with a cursor", async () => {
      const s = await make();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const id = i.toString(16).padStart(32, "0");
        ids.push(id);
        await s.write({
          spans: [span(id, "r", "gateway.request", T0 + i * 1000)],
          summaries: [root(id, T0 + i * 1000, { tenant: i === 6 ? "t2" : "t1", model: i % 2 ? "odd" : "even", sessionId: i < 3 ? "early" : "late", root: { name: "gateway.request", durationMs: 1, status: i === 4 ? "error" : "ok" } })],
        });
      }
      const all = await s.list({ tenant: "t1", limit: 100 });
      assert.deepEqual(all.traces.map((t) => t.traceId), ids.slice(0, 6).reverse());
      assert.equal(all.nextBefore, undefined);
      assert.deepEqual((await s.list({ tenant: "t1", model: "odd", limit: 100 })).traces.map((t) => t.traceId), [ids[5], ids[3], ids[1]]);
      assert.deepEqual((await s.list({ tenant: "t1", status: "error", limit: 100 })).traces.map((t) => t.traceId), [ids[4]]);
      assert.deepEqual((await s.list({ tenant: "t1", sessionId: "early", limit: 100 })).traces.map((t) => t.traceId), [ids[2], ids[1], ids[0]]);
      assert.deepEqual((await s.list({ tenant: "t1", since: T0 + 2000, until: T0 + 4000, limit: 100 })).traces.map((t) => t.traceId), [ids[3], ids[2]]);
      assert.deepEqual((await s.list({ limit: 100 })).traces.length, 7, "no tenant: all (admin)");
      // Paging: 6 traces of t1 in pages of 4.
      const p1 = await s.list({ tenant: "t1", limit: 4 });
      assert.equal(p1.traces.length, 4);
      assert.ok(p1.nextBefore);
      const p2 = await s.list({ tenant: "t1", limit: 4, before: p1.nextBefore });
      assert.deepEqual([...p1.traces, ...p2.traces].map((t) => t.traceId), ids.slice(0, 6).reverse());
      assert.equal(p2.nextBefore, undefined);
    });

    test("feedback and scores show on the summary; feedback lists in order", async () => {
      const s = await make();
      const id = "f".repeat(32);
      await s.write({ spans: [span(id, "r", "gateway.request", T0)], summaries: [root(id, T0)] });
      await s.addFeedback({ id: "fb1", traceId: id, tenant: "t1", score: -0.5, comment: "meh", createdAt: T0 + 1 });
      await s.addFeedback({ id: "fb2", traceId: id, tenant: "t1", score: 1, createdAt: T0 + 2 });
      await s.addScores([{ traceId: id, metric: "groundedness", value: 0.75, at: T0 + 3 }, { traceId: id, metric: "citations", value: 2, at: T0 + 3 }]);
      await s.addScores([{ traceId: id, metric: "citations", value: 3, at: T0 + 4 }]);
      const got = (await s.list({ tenant: "t1", limit: 10 })).traces[0]!;
      assert.deepEqual(got.feedback, { score: 1 });
      assert.deepEqual(got.scores, { groundedness: 0.75, citations: 3 });
      const fb = await s.listFeedback(id);
      assert.deepEqual(fb.map((f) => [f.id, f.score, f.comment]), [["fb1", -0.5, "meh"], ["fb2", 1, undefined]]);
    });

    test("retention deletes old traces with their spans, feedback and scores", async () => {
      const s = await make();
      const old = "0".repeat(31) + "1";
      const young = "0".repeat(31) + "2";
      for (const [id, at] of [[old, T0], [young, T0 + 10_000]] as const) {
        await s.write({ spans: [span(id, "r", "gateway.request", at), span(id, "c", "model.attempt", at + 1, "r")], summaries: [root(id, at)] });
        await s.addFeedback({ id: `fb-${id}`, traceId: id, tenant: "t1", score: 0, createdAt: at });
        await s.addScores([{ traceId: id, metric: "length", value: 1, at }]);
      }
      // An orphan span (root never stored) ages out too.
      await s.write({ spans: [span("9".repeat(32), "x", "pipeline.input", T0 - 1)], summaries: [] });
      assert.equal(await s.deleteOlderThan(T0 + 5_000), 1);
      assert.equal(await s.get(old), undefined);
      assert.deepEqual(await s.spans(old), []);
      assert.deepEqual(await s.listFeedback(old), []);
      assert.deepEqual(await s.spans("9".repeat(32)), []);
      assert.equal((await s.get(young))?.spanCount, 2);
      assert.equal((await s.listFeedback(young)).length, 1);
    });
  });
}

traceStoreContract("sqlite", async () => new SqliteTraceStore(openDatabase(":memory:")));
// A file: span writes go through the write thread, reads through this connection.
const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
traceStoreContract("sqlite file (write thread)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "trace-contract-"));
  dirs.push(dir);
  return new SqliteTraceStore(openDatabase(join(dir, "stratum.db")));
});

if (postgresTestsEnabled) {
  const pg = sharedTestSchema();
  after(() => pg.drop());
  traceStoreContract("postgres", async () => {
    const s = await pg.get();
    await s.truncate();
    return PgTraceStore.open(s.pool);
  });
}
