// The SQLite usage store's hourly sums: costs and reports read them (and the
// rows only for a partial first hour), so they must agree with the rows
// exactly, whatever `since`, across hours, keys, tenants and models; and the
// migration that adds them sums the rows already there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "./database.js";
import { SqliteUsageStore } from "./usage-store.js";
import type { UsageRecord } from "../types.js";

const HOUR = 3_600_000;
const T0 = Date.parse("2026-12-05T10:00:00Z");

function records(): UsageRecord[] {
  // 300 requests over ~5 hours, 3 keys of 2 tenants, 2 models, costs that differ per request.
  return Array.from({ length: 300 }, (_, i) => ({
    requestId: `r${i}`, at: T0 + i * 61_000, keyId: `k${i % 3}`, tenant: i % 3 === 2 ? "b" : "a", user: null, model: i % 2 ? "m1" : "m2",
    deployment: "d", promptTokens: 10 + (i % 7), completionTokens: 5 + (i % 11), costUsd: (i % 13) / 1000, status: 200, cached: false, stream: false, latencyMs: 1,
  }));
}

/** What the rows say, computed here without SQL. */
function expected(rows: UsageRecord[], since: number, tenant?: string) {
  const out = new Map<string, { keyId: string; model: string; requests: number; promptTokens: number; completionTokens: number; costUsd: number }>();
  for (const r of rows) {
    if (r.at < since || (tenant && r.tenant !== tenant)) continue;
    const k = `${r.keyId}/${r.model}`;
    const e = out.get(k) ?? { keyId: r.keyId, model: r.model, requests: 0, promptTokens: 0, completionTokens: 0, costUsd: 0 };
    e.requests++;
    e.promptTokens += r.promptTokens;
    e.completionTokens += r.completionTokens;
    e.costUsd += r.costUsd;
    out.set(k, e);
  }
  return out;
}

function assertSummary(actual: Awaited<ReturnType<SqliteUsageStore["summary"]>>, want: ReturnType<typeof expected>, what: string): void {
  assert.equal(actual.length, want.size, what);
  for (const a of actual) {
    const e = want.get(`${a.keyId}/${a.model}`);
    assert.ok(e, `${what}: unexpected ${a.keyId}/${a.model}`);
    assert.deepEqual([a.requests, a.promptTokens, a.completionTokens], [e.requests, e.promptTokens, e.completionTokens], `${what}: ${a.keyId}/${a.model}`);
    assert.ok(Math.abs(a.costUsd - e.costUsd) < 1e-9, `${what}: cost of ${a.keyId}/${a.model}`);
  }
  for (let i = 1; i < actual.length; i++) assert.ok(actual[i - 1]!.costUsd >= actual[i]!.costUsd, `${what}: sorted by cost`);
}

test("costs and reports from the hourly sums equal the rows' for any since, key, tenant and model", async () => {
  const rows = records();
  const store = new SqliteUsageStore(openDatabase(":memory:"));
  // In batches that cross hour boundaries, as the recorder writes them.
  for (let i = 0; i < rows.length; i += 70) await store.append(rows.slice(i, i + 70));
  for (const since of [0, T0, T0 + HOUR, T0 + HOUR + 1, T0 + 2.5 * HOUR, T0 + 4 * HOUR - 1, T0 + 99 * HOUR]) {
    for (const tenant of [undefined, "a", "b", "nobody"]) assertSummary(await store.summary({ since, tenant }), expected(rows, since, tenant), `since ${since - T0} tenant ${tenant}`);
    for (const [kind, id] of [["key", "k0"], ["key", "k2"], ["tenant", "a"], ["tenant", "b"]] as const) {
      const want = rows.filter((r) => r.at >= since && (kind === "key" ? r.keyId : r.tenant) === id).reduce((n, r) => n + r.costUsd, 0);
      assert.ok(Math.abs((await store.costSince({ kind, id }, since)) - want) < 1e-9, `${kind} ${id} since ${since - T0}`);
    }
  }
});

test("the migration that adds the hourly sums fills them from the rows already stored", async () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-usage-"));
  try {
    const file = join(dir, "stratum.db");
    const rows = records();
    const before = openDatabase(file);
    // The database as migration 2 left it: rows, no hourly sums.
    before.exec("DROP TABLE usage_hourly; DELETE FROM schema_migrations WHERE version = 3");
    const insert = before.prepare("INSERT INTO usage (request_id, at, key_id, tenant, user, model, deployment, prompt_tokens, completion_tokens, cost_usd, status, cached, stream, latency_ms) VALUES (?, ?, ?, ?, NULL, ?, 'd', ?, ?, ?, 200, 0, 0, 1)");
    for (const r of rows) insert.run(r.requestId, r.at, r.keyId, r.tenant, r.model, r.promptTokens, r.completionTokens, r.costUsd);
    before.close();
    const store = new SqliteUsageStore(openDatabase(file));
    assertSummary(await store.summary({ since: T0 + HOUR }), expected(rows, T0 + HOUR), "after the migration");
    assert.ok(Math.abs((await store.costSince({ kind: "tenant", id: "b" }, T0)) - rows.filter((r) => r.tenant === "b").reduce((n, r) => n + r.costUsd, 0)) < 1e-9);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every read (and delete) of the usage rows is an index range on their time, never a scan of the table", async () => {
  const db = openDatabase(":memory:");
  const reads: string[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    if (/FROM usage\s/.test(sql)) reads.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  const store = new SqliteUsageStore(db);
  await store.append(records());
  const since = T0 + HOUR + 1; // not on the hour: the rows are read for the rest of that hour
  await store.summary({ since });
  await store.summary({ since, tenant: "a" });
  await store.costSince({ kind: "key", id: "k0" }, since);
  await store.costSince({ kind: "tenant", id: "a" }, since);
  await store.deleteRowsBefore(since, 10);
  assert.equal(new Set(reads).size, 5, "the store's four reads of the rows and the retention's delete");
  for (const sql of new Set(reads)) {
    const params = Array.from(sql.matchAll(/\?/g), () => 0);
    const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join("; ");
    // The delete's range has only an end: the oldest rows first.
    const range = sql.startsWith("DELETE") ? /USING (COVERING )?INDEX usage_at \(at<\?\)/ : /USING (COVERING )?INDEX usage_at \(at>\? AND at<\?\)/;
    assert.match(plan, range, `${sql}\n→ ${plan}`);
  }
});
