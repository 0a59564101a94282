// bench/usage: the usage store's own costs, for SQLite and (when reachable)
// PostgreSQL: appending rows with their hourly sums, the retention sweep's
// batches, and a budget's spend read from the hourly sums against the same
// spend summed from the rows (the baseline, measured in the same run).
//   node --import tsx bench/usage.ts [--rows 1000000] [--pg-rows 200000] [--no-pg]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openDatabase, PgUsageStore, SqliteUsageStore, type UsageRecord, type UsageStore } from "../src/data/index.js";
import { createTestSchema } from "../src/testing/postgres.js";

const { values } = parseArgs({ options: { rows: { type: "string", default: "1000000" }, "pg-rows": { type: "string", default: "200000" }, "no-pg": { type: "boolean", default: false } } });
const DAY = 86_400_000;
const BATCH = 500; // the usage recorder's batch
const SWEEP_BATCH = 5_000; // the retention's batch
const NOW = Date.now();
const RETENTION_DAYS = 31;

/** A busy gateway's rows: 3 tenants with a key each, 2 models, spread evenly over the last 40 days. */
const row = (i: number, n: number): UsageRecord => ({
  requestId: `r${i}`, at: NOW - 40 * DAY + Math.floor((i * 40 * DAY) / n), keyId: `k${i % 3}`, tenant: `t${i % 3}`, user: null, model: `m${i % 2}`, deployment: "d",
  promptTokens: 100, completionTokens: 20, costUsd: 0.001, status: 200, cached: false, stream: false, latencyMs: 1,
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function measure(name: string, store: UsageStore, n: number, spendFromRows: () => Promise<number>): Promise<void> {
  let t = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    await store.append(Array.from({ length: Math.min(BATCH, n - i) }, (_, j) => row(i + j, n)));
    if ((i / BATCH) % 200 === 0) process.stdout.write(`\r  ${name}: appending ${i.toLocaleString()} / ${n.toLocaleString()} rows`);
  }
  console.log(`\r  ${name}: append, batches of ${BATCH}: ${(((performance.now() - t) * 1000) / n).toFixed(2)} µs a row (rows and their hourly sums, one transaction a batch)`);

  const reads = async (f: () => Promise<number>) => {
    const ms: number[] = [];
    let v = 0;
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      v = await f();
      ms.push(performance.now() - s);
    }
    return { ms: median(ms), v };
  };
  const since = NOW - 41 * DAY - ((NOW - 41 * DAY) % 3_600_000); // on the hour, as budget windows are
  const sums = await reads(() => store.costSince({ kind: "tenant", id: "t1" }, since));
  const rows = await reads(spendFromRows);
  console.log(`  ${name}: a tenant's spend over 40 days: ${sums.ms.toFixed(2)} ms from the hourly sums, ${rows.ms.toFixed(2)} ms summing the rows (${(rows.ms / sums.ms).toFixed(1)}x); $${sums.v.toFixed(3)} = $${rows.v.toFixed(3)}`);

  const batches: number[] = [];
  let deleted = 0;
  t = performance.now();
  for (;;) {
    const s = performance.now();
    const gone = await store.deleteRowsBefore(NOW - RETENTION_DAYS * DAY, SWEEP_BATCH);
    batches.push(performance.now() - s);
    deleted += gone;
    if (gone < SWEEP_BATCH) break;
  }
  console.log(`  ${name}: retention sweep (${RETENTION_DAYS} days): ${deleted.toLocaleString()} rows in ${batches.length} batches, ${(performance.now() - t).toFixed(0)} ms; a batch p50 ${median(batches).toFixed(1)} ms, max ${Math.max(...batches).toFixed(1)} ms`);
  const after = await store.costSince({ kind: "tenant", id: "t1" }, since);
  console.log(`  ${name}: the same spend after the sweep, from the sums: $${after.toFixed(3)}`);
}

async function main(): Promise<void> {
  const n = Number(values.rows);
  const dir = mkdtempSync(join(tmpdir(), "stratum-bench-usage-"));
  try {
    console.log(`SQLite (a file in ${dir}), ${n.toLocaleString()} rows`);
    const db = openDatabase(join(dir, "usage.db"));
    const byRows = db.prepare("SELECT COALESCE(SUM(cost_usd), 0) AS c FROM usage WHERE tenant = ? AND at >= ?");
    await measure("sqlite", new SqliteUsageStore(db), n, async () => (byRows.get("t1", NOW - 41 * DAY) as { c: number }).c);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (values["no-pg"]) return;
  const m = Number(values["pg-rows"]);
  console.log(`PostgreSQL (a fresh schema on STRATUM_TEST_POSTGRES_URL or the local test database), ${m.toLocaleString()} rows`);
  const s = await createTestSchema({ prefix: "stratum_bench" });
  try {
    const spend = async () => (await s.pool.query<{ c: number }>("SELECT COALESCE(SUM(cost_usd), 0)::float8 AS c FROM usage WHERE tenant = $1 AND at >= $2", ["t1", NOW - 41 * DAY])).rows[0]!.c;
    await measure("postgres", new PgUsageStore(s.pool), m, spend);
  } finally {
    await s.drop();
  }
}

await main();
