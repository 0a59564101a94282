// Redis-specific behaviour beyond the shared contracts (those are in data/stores.test.ts):
// cross-client atomicity, slot expiry, SCAN-based clear, pub/sub invalidation, spend counters.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { StratumError } from "../../core/errors.js";
import { assertTestRedisReachable, closeTestRedis, skipRedis, testRedis, testRedisPrefix } from "../../testing/redis.js";
import { consumeOne, takeSlot } from "../../testing/rate-limits.js";
import { utcWindow } from "../../core/utc-period.js";
import { CacheInvalidator, createRedis, RedisCacheStore, RedisRateLimitStore, RedisSpendCounter } from "./index.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("Redis stores", { skip: skipRedis && "STRATUM_SKIP_REDIS=1" }, () => {
  before(assertTestRedisReachable);
  after(closeTestRedis);

  test("rate limit holds across clients: 200 concurrent consumes, limit 50 -> exactly 50 allowed", async () => {
    const prefix = testRedisPrefix();
    const a = new RedisRateLimitStore(testRedis(prefix));
    const b = new RedisRateLimitStore(testRedis(prefix));
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => consumeOne(i % 2 ? a : b, "k", 1, 50, 60_000)));
    assert.equal(results.filter((r) => r.allowed).length, 50);
    const refused = results.filter((r) => !r.allowed);
    assert.equal(refused.length, 150);
    assert.ok(refused.every((r) => r.remaining === 0 && r.resetMs > 0 && r.resetMs <= 60_000));
  });

  test("concurrency slots hold across clients: 100 concurrent acquires, limit 7 -> exactly 7", async () => {
    const prefix = testRedisPrefix();
    const a = new RedisRateLimitStore(testRedis(prefix));
    const b = new RedisRateLimitStore(testRedis(prefix));
    const got = await Promise.all(Array.from({ length: 100 }, (_, i) => takeSlot(i % 2 ? a : b, "c", 7)));
    assert.equal(got.filter(Boolean).length, 7);
    // Releasing on a replica that holds no slot is a no-op; releasing a held one frees it.
    const holderA = got.some((ok, i) => ok && i % 2 === 1);
    const holder = holderA ? a : b;
    await holder.release("c");
    assert.equal(await takeSlot(holder === a ? b : a, "c", 7), true);
    assert.equal(await takeSlot(a, "c", 7), false);
  });

  test("admission is atomic across clients: 100 concurrent two-limit admissions, slot limit 7 -> 7 admitted and 7 counted", async () => {
    const prefix = testRedisPrefix();
    const a = new RedisRateLimitStore(testRedis(prefix));
    const b = new RedisRateLimitStore(testRedis(prefix));
    const checks = [
      { kind: "window", key: "rpm", amount: 1, limit: 50, windowMs: 60_000 },
      { kind: "slot", key: "conc", limit: 7 },
    ] as const;
    const got = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).admit(checks)));
    assert.equal(got.filter((r) => r.admitted).length, 7);
    // The 93 refused by the slot counted nothing in the window.
    const after = await consumeOne(a, "rpm", 1, 50, 60_000);
    assert.equal(after.remaining, 50 - 7 - 1);
    a.close();
    b.close();
  });

  test("a crashed replica's slots expire after slotTtlMs; live holders are refreshed", async () => {
    const prefix = testRedisPrefix();
    const crashed = new RedisRateLimitStore(testRedis(prefix), { slotTtlMs: 150 });
    const live = new RedisRateLimitStore(testRedis(prefix), { slotTtlMs: 150 });
    assert.equal(await takeSlot(live, "c", 2), true);
    assert.equal(await takeSlot(crashed, "c", 2), true);
    crashed.close(); // stops refreshing, like a dead process
    assert.equal(await takeSlot(live, "c", 2), false);
    await sleep(400);
    assert.equal(await takeSlot(live, "c", 2), true, "crashed slot expired; live slot still held");
    assert.equal(await takeSlot(live, "c", 2), false);
    live.close();
  });

  test("add refunds with negative amounts, floored at 0", async () => {
    const s = new RedisRateLimitStore(testRedis());
    await s.add("t", 90, 60_000);
    await s.add("t", -200, 60_000);
    assert.equal((await consumeOne(s, "t", 100, 100, 60_000)).allowed, true);
    await s.add("t", -30, 60_000);
    const r = await consumeOne(s, "t", 30, 100, 60_000);
    assert.equal(r.allowed, true);
    assert.equal(r.remaining, 0);
  });

  test("sliding window: previous window's count decays, key expires after two windows", async () => {
    const redis = testRedis();
    const s = new RedisRateLimitStore(redis);
    assert.equal((await consumeOne(s, "w", 3, 3, 200)).allowed, true);
    const pttl = await redis.pttl("rl:w:w");
    assert.ok(pttl > 0 && pttl <= 400, `pttl ${pttl}`);
    await sleep(450);
    assert.equal((await consumeOne(s, "w", 3, 3, 200)).allowed, true);
  });

  test("cache clear uses SCAN in batches and escapes glob characters", async () => {
    const redis = testRedis();
    const c = new RedisCacheStore<number>(redis);
    await Promise.all(Array.from({ length: 1200 }, (_, i) => c.set(`t*1:${i}`, i, 60_000)));
    await c.set("t11:x", 1, 60_000);
    await c.set("t*1", 2, 60_000);
    await c.clear("t*1:");
    assert.equal(await c.get("t*1:5"), undefined);
    assert.equal(await c.get("t11:x"), 1, "* is not a wildcard");
    assert.equal(await c.get("t*1"), 2);
    await c.clear();
    assert.equal(await c.get("t11:x"), undefined);
  });

  test("cache refuses values over maxValueBytes (and drops the older value)", async () => {
    const warnings: unknown[] = [];
    const c = new RedisCacheStore<string>(testRedis(), { maxValueBytes: 100, log: { warn: (o: unknown) => void warnings.push(o) } as never });
    await c.set("k", "small", 60_000);
    await c.set("k", "x".repeat(200), 60_000);
    assert.equal(await c.get("k"), undefined);
    assert.equal(warnings.length, 1);
    // The default bound is 1 MiB.
    const d = new RedisCacheStore<string>(testRedis());
    await d.set("big", "y".repeat(1024 * 1024 + 1), 60_000);
    assert.equal(await d.get("big"), undefined);
    await d.set("ok", "y".repeat(1000), 60_000);
    assert.equal((await d.get("ok"))?.length, 1000);
  });

  test("invalidator: clear on one replica drops the other replicas' local caches", async () => {
    const prefix = testRedisPrefix();
    const invA = new CacheInvalidator(testRedis(prefix));
    const invB = new CacheInvalidator(testRedis(prefix));
    const invOther = new CacheInvalidator(testRedis()); // another deployment (prefix) on the same Redis
    const seenA: string[] = [];
    const seenB: string[] = [];
    const seenOther: string[] = [];
    await invA.subscribe((p) => seenA.push(p));
    await invB.subscribe((p) => seenB.push(p));
    await invOther.subscribe((p) => seenOther.push(p));
    const storeA = new RedisCacheStore<number>(testRedis(prefix), { invalidator: invA });
    await storeA.set("tenant1:x", 1, 60_000);
    await storeA.clear("tenant1:");
    for (let i = 0; i < 50 && !seenB.length; i++) await sleep(10);
    assert.deepEqual(seenB, ["tenant1:"]);
    assert.deepEqual(seenA, [], "a replica does not hear its own clears");
    assert.deepEqual(seenOther, []);
    invA.close();
    invB.close();
    invOther.close();
  });

  test("spend counters: shared across clients, per subject and UTC day or month, expiring when the window ends", async () => {
    const prefix = testRedisPrefix();
    const redis = testRedis(prefix);
    const a = new RedisSpendCounter(redis);
    const b = new RedisSpendCounter(testRedis(prefix));
    const keyDay = { subject: { kind: "key", id: "key1" }, period: "day" } as const;
    const keyMonth = { subject: { kind: "key", id: "key1" }, period: "month" } as const;
    const tenantDay = { subject: { kind: "tenant", id: "key1" }, period: "day" } as const;
    const now = Date.now();
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add(keyDay, 0.05, now)));
    assert.ok(Math.abs((await b.get(keyDay, now)) - 1) < 1e-9);
    assert.equal(await a.get(keyDay, now - 86_400_000), 0, "yesterday is separate");
    assert.equal(await a.get(keyMonth, now), 0, "the month is its own counter, even on its first day");
    assert.equal(await a.get(tenantDay, now), 0, "a tenant named like a key is another subject");
    assert.equal(await a.get({ subject: { kind: "key", id: "other" }, period: "day" }, now), 0);
    const day = utcWindow("day", now);
    const pttl = await redis.pttl(`spend:day:${day.start}:key:key1`);
    const untilEnd = day.end - Date.now();
    assert.ok(pttl > 0 && Math.abs(pttl - untilEnd) < 5000, `pttl ${pttl} vs ${untilEnd}`);
    await a.add(keyMonth, 3, now);
    const month = utcWindow("month", now);
    const monthTtl = await redis.pttl(`spend:month:${month.start}:key:key1`);
    assert.ok(Math.abs(monthTtl - (month.end - Date.now())) < 5000, `month pttl ${monthTtl}`);
    assert.ok(Math.abs((await a.seed(keyDay, 99, now)) - 1) < 1e-9, "seed does not overwrite");
    assert.equal(await a.seed({ subject: { kind: "key", id: "key2" }, period: "day" }, 2.5, now), 2.5);
  });

  test("a dead Redis fails fast with cache_unavailable", async () => {
    const dead = createRedis("redis://127.0.0.1:1/0", { commandTimeoutMs: 300, connectTimeoutMs: 200 });
    try {
      const t0 = Date.now();
      const err = await consumeOne(new RedisRateLimitStore(dead), "k", 1, 1, 1000).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof StratumError, String(err));
      assert.equal(err.kind, "Unavailable");
      assert.equal(err.code, "cache_unavailable");
      assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
      await assert.rejects(new RedisCacheStore(dead).get("k"), (e: unknown) => e instanceof StratumError && e.code === "cache_unavailable");
    } finally {
      dead.disconnect();
    }
  });
});
