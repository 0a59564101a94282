// A database written by the one-row-per-span schema: opening the store moves
// those spans into span sets, so old traces read back the same.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase } from "../../data/index.js";
import { SqliteTraceStore } from "./trace-store.js";

test("legacy trace_spans rows become span sets: same spans, same count, table gone", async () => {
  const db = openDatabase(":memory:");
  db.exec(`CREATE TABLE trace_spans (trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, name TEXT NOT NULL, start_ms REAL NOT NULL,
    end_ms REAL NOT NULL, status TEXT NOT NULL, status_message TEXT, attributes TEXT NOT NULL, events TEXT NOT NULL)`);
  const add = db.prepare("INSERT INTO trace_spans VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  add.run("t1", "root", null, "gateway.request", 100.5, 110, "ok", null, JSON.stringify({ "stratum.tenant": "acme", n: 1 }), "[]");
  add.run("t1", "child", "root", "model.call", 101, 109, "error", "boom", JSON.stringify({ nested: { ok: true } }), JSON.stringify([{ name: "guardrail.pii", timeMs: 102, attributes: { a: 1 } }]));
  add.run("t2", "only", null, "gateway.request", 200, 201, "ok", null, "{}", "[]");

  const store = new SqliteTraceStore(db);
  await store.write({ spans: [], summaries: [{ traceId: "t1", startedAt: 100, root: { name: "gateway.request", durationMs: 9.5, status: "ok" }, tenant: "acme" }] });

  assert.deepEqual(await store.spans("t1"), [
    { traceId: "t1", spanId: "root", name: "gateway.request", startMs: 100.5, endMs: 110, status: "ok", attributes: { "stratum.tenant": "acme", n: 1 }, events: [] },
    { traceId: "t1", spanId: "child", parentSpanId: "root", name: "model.call", startMs: 101, endMs: 109, status: "error", statusMessage: "boom", attributes: { nested: { ok: true } }, events: [{ name: "guardrail.pii", timeMs: 102, attributes: { a: 1 } }] },
  ].sort((a, b) => a.startMs - b.startMs));
  assert.equal((await store.get("t1"))?.spanCount, 2);
  assert.equal((await store.spans("t2")).length, 1);
  assert.equal(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'trace_spans'").get(), undefined);
  // Opening again is a no-op.
  new SqliteTraceStore(db);
  assert.equal((await store.spans("t1")).length, 2);
});
