// The write thread behind a file-backed SqliteTraceStore: batches written by
// another connection are visible to this one, close() waits for writes in
// flight, a failed write is a rejection that leaves the thread serving, and
// the thread (not the request thread) runs the WAL checkpoints.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { openDatabase } from "../../data/index.js";
import { startScript } from "../../testing/start-script.js";
import { SqliteTraceStore } from "./trace-store.js";
import { TRACE_THREAD_RESOURCE_LIMITS } from "./trace-write-thread.js";
import type { StoredSpan } from "../types.js";

const dir = mkdtempSync(join(tmpdir(), "trace-thread-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function span(traceId: string, spanId: string): StoredSpan {
  return { traceId, spanId, name: "gateway.request", startMs: 1, endMs: 2, status: "ok", attributes: { n: spanId }, events: [] };
}

test("close() waits for every write in flight; the rows are there after", async () => {
  const file = join(dir, "a.db");
  const db = openDatabase(file);
  const store = new SqliteTraceStore(db);
  const writes = Array.from({ length: 20 }, (_, i) => store.write({ spans: Array.from({ length: 50 }, (_, j) => span(`t${i}`, `s${j}`)), summaries: [] }));
  await store.close();
  await Promise.all(writes);
  assert.equal((db.prepare("SELECT SUM(json_array_length(spans)) AS n FROM trace_span_sets").get() as { n: number }).n, 1000);
  assert.equal((await store.spans("t7")).length, 50);
  db.close();
});

test("a failed write rejects with SQLite's reason; the next write goes through", async () => {
  const db = openDatabase(join(dir, "b.db"));
  const store = new SqliteTraceStore(db);
  await store.write({ spans: [span("t1", "s1")], summaries: [] });
  // NOT NULL on the summary's start: the whole batch's transaction fails, spans included.
  const bad = { traceId: "t1", startedAt: null as unknown as number };
  await assert.rejects(store.write({ spans: [span("t1", "s3")], summaries: [bad] }), /trace write failed: .*NOT NULL/);
  await store.write({ spans: [span("t2", "s1")], summaries: [] });
  assert.deepEqual((await store.spans("t1")).map((s) => s.spanId), ["s1"], "the failed batch left nothing behind");
  assert.equal((await store.spans("t2")).length, 1);
  await store.close();
  db.close();
});

test("with a write thread, the thread's connection runs the WAL checkpoints: the request thread's waits for 10x the WAL", async () => {
  const db = openDatabase(join(dir, "c.db"));
  const mem = openDatabase(":memory:");
  const byDefault = db.pragma("wal_autocheckpoint", { simple: true });
  assert.equal(byDefault, 1000);
  const store = new SqliteTraceStore(db);
  assert.equal(db.pragma("wal_autocheckpoint", { simple: true }), 10_000);
  const inPlace = new SqliteTraceStore(mem); // no thread for an in-memory database: it keeps checkpointing itself
  assert.equal(mem.pragma("wal_autocheckpoint", { simple: true }), byDefault);
  await Promise.all([store.close(), inPlace.close()]);
  db.close();
  mem.close();
});

test("under npm start's node flags, a thread with the trace thread's limits keeps its small young generation", () => {
  // A process-wide --max-semi-space-size overrides a worker's resourceLimits (it did: 16 MiB of new space, not 4).
  const { env, nodeFlags } = startScript();
  const worker = `Promise.all([import("node:v8"), import("node:worker_threads")]).then(([v8, threads]) => {
    let keep = [];
    for (let i = 0; i < 300000; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 5000) keep = []; }
    threads.parentPort.postMessage(v8.getHeapSpaceStatistics().find((x) => x.space_name === "new_space").space_size);
  });`;
  const main = `import { Worker } from "node:worker_threads";
    const w = new Worker(${JSON.stringify(worker)}, { eval: true, resourceLimits: ${JSON.stringify(TRACE_THREAD_RESOURCE_LIMITS)} });
    w.once("message", (n) => { console.log(n); w.terminate(); });`;
  const out = execFileSync(process.execPath, [...nodeFlags, "--input-type=module", "-e", main], { env: { ...process.env, ...env }, encoding: "utf8" });
  const newSpaceMiB = Number(out.trim()) / 2 ** 20;
  assert.ok(newSpaceMiB > 0 && newSpaceMiB <= TRACE_THREAD_RESOURCE_LIMITS.maxYoungGenerationSizeMb, `new space ${newSpaceMiB} MiB`);
});
