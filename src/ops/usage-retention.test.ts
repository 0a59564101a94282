// Usage row retention against a real SQLite usage store, and in a running
// server: old rows go in bounded batches, the hourly sums (what budgets and
// reports read) stay.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, SqliteUsageStore, type UsageRecord, type UsageStore } from "../data/index.js";
import { startTestServer } from "../testing/harness.js";
import { capturingLogger } from "../testing/capturing-logger.js";
import { UsageRetention } from "./usage-retention.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 6, 12);

let n = 0;
const rec = (at: number): UsageRecord => ({
  requestId: `r${n++}`, at, keyId: "k", tenant: "t", user: null, model: "m", deployment: "d", promptTokens: 1, completionTokens: 1, costUsd: 0.5, status: 200, cached: false, stream: false, latencyMs: 1,
});

async function storeWith(ats: number[]) {
  const db = openDatabase(":memory:");
  const store = new SqliteUsageStore(db);
  await store.append(ats.map(rec));
  const rows = () => (db.prepare("SELECT COUNT(*) AS n FROM usage").get() as { n: number }).n;
  return { store, rows };
}

describe("UsageRetention", () => {
  test("a sweep deletes the rows older than retentionDays in batches, yielding between them; the sums stay", async () => {
    const old = Array.from({ length: 12 }, (_, i) => NOW - 40 * DAY + i * 60_000);
    const { store, rows } = await storeWith([...old, NOW - 30 * DAY, NOW - DAY, NOW]);
    const { log, lines } = capturingLogger();
    const retention = new UsageRetention(store, 31, log, 5);
    let turns = 0;
    const ticking = setInterval(() => turns++, 0);
    setImmediate(() => turns++);
    const first = retention.sweep(NOW);
    assert.equal(retention.sweep(NOW), first, "a second call joins the sweep in progress");
    assert.equal(await first, 12);
    clearInterval(ticking);
    assert.ok(turns >= 1, "other work ran during the sweep");
    assert.equal(rows(), 3);
    assert.equal((await store.summary({ since: 0 }))[0]!.requests, 15, "the hourly sums still count every request");
    assert.equal(await store.costSince({ kind: "key", id: "k" }, NOW - 60 * DAY), 7.5);
    assert.ok(lines.some((l) => l.includes("old usage rows deleted") && l.includes('"usageRows":12')), lines.join("\n"));
    assert.equal(await retention.sweep(NOW), 0, "nothing left to delete");
    await store.append([rec(NOW - 40 * DAY)]);
    await retention.stop();
    assert.equal(await retention.sweep(NOW), 0, "a stopped retention touches the store no more (it may be closed)");
    assert.equal(rows(), 4);
  });

  test("retentionDays 0 keeps every row and starts no timer", async () => {
    const { store, rows } = await storeWith([NOW - 1000 * DAY, NOW]);
    const retention = new UsageRetention(store, 0, capturingLogger().log);
    retention.start(1);
    assert.equal(await retention.sweep(NOW), 0);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(rows(), 2);
    await retention.stop();
  });

  test("a failing store is logged and the sweep resolves with what it deleted", async () => {
    const { store } = await storeWith([NOW - 40 * DAY, NOW - 40 * DAY + 1, NOW - 40 * DAY + 2]);
    let calls = 0;
    const flaky: UsageStore = {
      append: (r) => store.append(r),
      costSince: (s, t) => store.costSince(s, t),
      summary: (f) => store.summary(f),
      hourly: (f) => store.hourly(f),
      deleteRowsBefore: async (t, limit) => {
        if (++calls > 1) throw new Error("disk on fire");
        return store.deleteRowsBefore(t, limit);
      },
    };
    const { log, lines } = capturingLogger();
    assert.equal(await new UsageRetention(flaky, 31, log, 2).sweep(NOW), 2);
    assert.ok(lines.some((l) => l.includes("usage retention sweep failed") && l.includes("disk on fire") && l.includes('"deleted":2')), lines.join("\n"));
  });

  test("a server deletes old rows at start and keeps the rows of its own requests", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stratum-retention-"));
    try {
      // Create the database, then put rows from long ago in it while the server is down.
      await (await startTestServer({}, { dataDir })).close();
      const db = openDatabase(join(dataDir, "stratum.db"));
      await new SqliteUsageStore(db).append([rec(Date.now() - 10 * DAY), rec(Date.now() - 9 * DAY)]);
      db.close();

      const srv = await startTestServer({ usage: { retentionDays: 7 } }, { dataDir });
      try {
        const answer = await srv.client().chat.completions.create({ model: "sim", messages: [{ role: "user", content: "hello" }] });
        assert.ok(answer.choices[0]?.message.content);
        const rows = () => {
          const check = openDatabase(join(dataDir, "stratum.db"));
          try {
            return check.prepare("SELECT request_id AS id, at FROM usage ORDER BY at").all() as Array<{ id: string; at: number }>;
          } finally {
            check.close();
          }
        };
        for (let i = 0; i < 100 && (rows().length !== 1 || rows().some((r) => r.at < Date.now() - 7 * DAY)); i++) await new Promise((r) => setTimeout(r, 50));
        const left = rows();
        assert.equal(left.length, 1, JSON.stringify(left));
        assert.ok(left[0]!.at > Date.now() - 60_000, "the row of the request just served");
        assert.ok(srv.logs.some((l) => l.includes("old usage rows deleted") && l.includes('"usageRows":2')));
      } finally {
        await srv.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
