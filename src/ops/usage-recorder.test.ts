// UsageRecorder's spend tallies against a real SQLite usage store (and a real
// Redis for the shared counters): what budgets read must count every record
// once, whether it is written, queued, or being written when a tally starts.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase, RedisSpendCounter, SqliteUsageStore, type SpendSubject, type UsageRecord, type UsageStore } from "../data/index.js";
import { closeTestRedis, skipRedis, testRedis, testRedisPrefix } from "../testing/redis.js";
import { capturingLogger } from "../testing/capturing-logger.js";
import { UsageRecorder } from "./usage-recorder.js";

let n = 0;
const rec = (keyId: string, tenant: string, costUsd: number, at = Date.now()): UsageRecord => ({
  requestId: `r${n++}`, at, keyId, tenant, user: null, model: "m", deployment: "d", promptTokens: 1, completionTokens: 1, costUsd, status: 200, cached: false, stream: false, latencyMs: 1,
});
const key = (id: string): SpendSubject => ({ kind: "key", id });
const tenant = (id: string): SpendSubject => ({ kind: "tenant", id });
const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

describe("UsageRecorder spend tallies", () => {
  test("written, queued and later records are each counted once, per subject and window", async () => {
    const store = new SqliteUsageStore(openDatabase(":memory:"));
    const lastMonth = Date.now() - 40 * 86_400_000;
    await store.append([rec("k1", "t", 1), rec("k2", "t", 2), rec("k1", "t", 50, lastMonth), rec("k9", "other", 7)]);
    const { log } = capturingLogger();
    const usage = new UsageRecorder(store, log, { flushIntervalMs: 60_000 });
    usage.record(rec("k1", "t", 0.25)); // queued, not written: no tally asks yet
    assert.ok(close(await usage.spent(key("k1"), "day"), 1.25));
    assert.ok(close(await usage.spent(tenant("t"), "month"), 3.25), "both keys of the tenant; last month's record is outside");
    await usage.flush(); // now written: still counted once
    usage.record(rec("k2", "t", 0.5));
    assert.ok(close(await usage.spent(key("k1"), "day"), 1.25));
    assert.ok(close(await usage.spent(tenant("t"), "month"), 3.75));
    assert.ok(close(await usage.spent(tenant("other"), "day"), 7));
    assert.equal(await usage.spent(key("nobody"), "month"), 0);
    await usage.close();
  });

  test("a batch being written when a tally starts is counted once", async () => {
    const sqlite = new SqliteUsageStore(openDatabase(":memory:"));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow: UsageStore = {
      append: async (rows) => {
        await gate;
        return sqlite.append(rows);
      },
      costSince: (s, since) => sqlite.costSince(s, since),
      summary: (f) => sqlite.summary(f),
      hourly: (f) => sqlite.hourly(f),
      deleteRowsBefore: (t, n) => sqlite.deleteRowsBefore(t, n),
    };
    const usage = new UsageRecorder(slow, capturingLogger().log, { flushIntervalMs: 60_000 });
    usage.record(rec("k", "t", 2));
    const writing = usage.flush();
    assert.ok(close(await usage.spent(key("k"), "day"), 2), "in flight to the store");
    release();
    await writing;
    usage.record(rec("k", "t", 1));
    assert.ok(close(await usage.spent(key("k"), "day"), 3));
    await usage.close();
  });

  test("a store that cannot say what was spent is logged, and the tally goes on from what this process saw", async () => {
    const sqlite = new SqliteUsageStore(openDatabase(":memory:"));
    const broken: UsageStore = { append: (r) => sqlite.append(r), costSince: async () => Promise.reject(new Error("disk on fire")), summary: (f) => sqlite.summary(f), hourly: (f) => sqlite.hourly(f), deleteRowsBefore: (t, n) => sqlite.deleteRowsBefore(t, n) };
    const { log, lines } = capturingLogger();
    const usage = new UsageRecorder(broken, log, { flushIntervalMs: 60_000 });
    usage.record(rec("k", "t", 1));
    assert.ok(close(await usage.spent(key("k"), "day"), 1));
    usage.record(rec("k", "t", 1));
    assert.ok(close(await usage.spent(key("k"), "day"), 2));
    assert.ok(lines.some((l) => l.includes("cannot read the spend recorded so far") && l.includes("disk on fire")));
    await usage.close();
  });

  describe("shared counters (Redis)", { skip: skipRedis && "STRATUM_SKIP_REDIS=1" }, () => {
    after(closeTestRedis);
    test("two replicas over one store see each other's spend", async () => {
      const store = new SqliteUsageStore(openDatabase(":memory:"));
      await store.append([rec("k", "t", 10)]);
      const prefix = testRedisPrefix();
      const a = new UsageRecorder(store, capturingLogger().log, { flushIntervalMs: 60_000, spend: new RedisSpendCounter(testRedis(prefix)) });
      const b = new UsageRecorder(store, capturingLogger().log, { flushIntervalMs: 60_000, spend: new RedisSpendCounter(testRedis(prefix)) });
      assert.ok(close(await a.spent(tenant("t"), "month"), 10), "seeded from the store");
      assert.ok(close(await b.spent(tenant("t"), "month"), 10), "seeded once: B finds A's counter");
      a.record(rec("k", "t", 1));
      b.record(rec("k2", "t", 2));
      let seen = 0;
      for (let i = 0; i < 50 && !close(seen, 13); i++) {
        seen = await b.spent(tenant("t"), "month");
        if (!close(seen, 13)) await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(close(seen, 13), `B sees A's spend too: ${seen}`);
      assert.ok(close(await a.spent(tenant("t"), "month"), 13));
      await a.close();
      await b.close();
    });
  });
});
