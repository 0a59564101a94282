// Contract tests: every implementation of a store interface must pass the
// same suite (PostgreSQL and Redis implementations join these lists).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { MemoryCacheStore, MemoryRateLimitStore, openDatabase, SqliteCacheStore, SqliteKeyStore, SqliteUsageStore } from "./index.js";
import type { CacheStore, KeyStore, RateLimitStore, UsageStore } from "./types.js";
import { RedisCacheStore, RedisRateLimitStore } from "./redis/index.js";
import { assertTestRedisReachable, closeTestRedis, skipRedis, testRedis } from "../testing/redis.js";
import { PgKeyStore, PgUsageStore } from "./postgres/index.js";
import { consumeOne, takeSlot } from "../testing/rate-limits.js";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";

// PostgreSQL entries share one fresh schema for this file (emptied per store, dropped at the end);
// an unreachable server fails them with a clear message; STRATUM_SKIP_POSTGRES=1 leaves them out.
const testPg = sharedTestSchema();
after(() => testPg.drop());
const freshPgPool = async () => {
  const s = await testPg.get();
  await s.truncate();
  return s.pool;
};

// Redis entries use STRATUM_TEST_REDIS_URL with a unique key prefix per store; STRATUM_SKIP_REDIS=1 leaves them out.
after(closeTestRedis);
if (!skipRedis) test("Redis for the Redis contract entries is reachable", assertTestRedisReachable);

const cacheStores: Array<[string, () => CacheStore<{ v: number }>]> = [
  ["memory", () => new MemoryCacheStore(3)],
  ["sqlite", () => new SqliteCacheStore(openDatabase(":memory:"), 3)],
  ...(skipRedis ? [] : [["redis", () => new RedisCacheStore<{ v: number }>(testRedis())] as [string, () => CacheStore<{ v: number }>]]),
];

for (const [name, make] of cacheStores) {
  describe(`CacheStore contract: ${name}`, () => {
    test("get/set/delete and TTL expiry", async () => {
      const s = make();
      assert.equal(await s.get("a"), undefined);
      await s.set("a", { v: 1 }, 60_000);
      assert.deepEqual(await s.get("a"), { v: 1 });
      await s.set("a", { v: 2 }, 60_000);
      assert.deepEqual(await s.get("a"), { v: 2 });
      await s.delete("a");
      assert.equal(await s.get("a"), undefined);
      await s.set("short", { v: 3 }, 20);
      await new Promise((r) => setTimeout(r, 40));
      assert.equal(await s.get("short"), undefined);
    });
    test("clear by prefix leaves other tenants alone, even with LIKE wildcards in keys", async () => {
      const s = make();
      await s.set("t_1:x", { v: 1 }, 60_000);
      await s.set("t%1:y", { v: 2 }, 60_000);
      await s.clear("t_1:");
      assert.equal(await s.get("t_1:x"), undefined);
      assert.deepEqual(await s.get("t%1:y"), { v: 2 });
    });
  });
}

describe("CacheStore: memory LRU bound", () => {
  test("evicts the least recently used entry past maxEntries", async () => {
    const s = new MemoryCacheStore<number>(2);
    await s.set("a", 1, 60_000);
    await s.set("b", 2, 60_000);
    await s.get("a");
    await s.set("c", 3, 60_000);
    assert.equal(await s.get("b"), undefined);
    assert.equal(await s.get("a"), 1);
    assert.equal(s.size, 2);
  });
});

const keyStores: Array<[string, () => KeyStore | Promise<KeyStore>]> = [
  ["sqlite", () => new SqliteKeyStore(openDatabase(":memory:"))],
  ...(postgresTestsEnabled ? [["postgres", async () => new PgKeyStore(await freshPgPool())] as [string, () => Promise<KeyStore>]] : []),
];
for (const [name, make] of keyStores) {
  describe(`KeyStore contract: ${name}`, () => {
    test("create, find by hash, list by tenant, revoke", async () => {
      const s = await make();
      const base = { name: "", role: "user" as const, prefix: "sk-", limits: { requestsPerMinute: 5 }, createdAt: 1, revokedAt: null };
      await s.create({ ...base, id: "k1", tenant: "a", hash: "h1" });
      await s.create({ ...base, id: "k2", tenant: "b", hash: "h2", role: "admin" });
      assert.equal((await s.findByHash("h1"))?.id, "k1");
      assert.deepEqual((await s.findByHash("h1"))?.limits, { requestsPerMinute: 5 });
      assert.equal(await s.findByHash("nope"), undefined);
      assert.deepEqual((await s.list({ tenant: "a" })).map((k) => k.id), ["k1"]);
      assert.equal(await s.countAdmins(), 1);
      assert.equal(await s.revoke("k1", 99), true);
      assert.equal(await s.revoke("k1", 100), false, "already revoked");
      assert.equal((await s.get("k1"))?.revokedAt, 99);
      assert.deepEqual((await s.list()).map((k) => k.id), ["k2"]);
      assert.deepEqual((await s.list({ includeRevoked: true })).map((k) => k.id), ["k1", "k2"]);
      await assert.rejects(s.create({ ...base, id: "k3", tenant: "a", hash: "h2" }), "hash is unique");
    });
  });
}

const usageStores: Array<[string, () => UsageStore | Promise<UsageStore>]> = [
  ["sqlite", () => new SqliteUsageStore(openDatabase(":memory:"))],
  ...(postgresTestsEnabled ? [["postgres", async () => new PgUsageStore(await freshPgPool())] as [string, () => Promise<UsageStore>]] : []),
];
for (const [name, make] of usageStores) {
  describe(`UsageStore contract: ${name}`, () => {
    test("append in batches, cost since a time, summary", async () => {
      const s = await make();
      const rec = (at: number, keyId: string, costUsd: number) => ({
        requestId: `r${at}`, at, keyId, tenant: "t", user: null, model: "m", deployment: "d", promptTokens: 10, completionTokens: 5, costUsd, status: 200, cached: false, stream: false, latencyMs: 1,
      });
      await s.append([rec(100, "k", 0.5), rec(200, "k", 0.25), rec(300, "other", 9)]);
      assert.equal(await s.costSince("k", 0), 0.75);
      assert.equal(await s.costSince("k", 150), 0.25);
      const sum = await s.summary({ since: 0 });
      const k = sum.find((r) => r.keyId === "k")!;
      assert.equal(k.requests, 2);
      assert.equal(k.promptTokens, 20);
    });
  });
}

const limitStores: Array<[string, () => RateLimitStore]> = [
  ["memory", () => new MemoryRateLimitStore()],
  ...(skipRedis ? [] : [["redis", () => new RedisRateLimitStore(testRedis())] as [string, () => RateLimitStore]]),
];
for (const [name, make] of limitStores) {
  describe(`RateLimitStore contract: ${name}`, () => {
    test("consume up to the limit, then refuse with a reset time", async () => {
      const s = make();
      for (let i = 0; i < 3; i++) assert.equal((await consumeOne(s, "k", 1, 3, 60_000)).allowed, true);
      const r = await consumeOne(s, "k", 1, 3, 60_000);
      assert.equal(r.allowed, false);
      assert.equal(r.remaining, 0);
      assert.ok(r.resetMs > 0 && r.resetMs <= 60_000);
      assert.equal((await consumeOne(s, "other", 1, 3, 60_000)).allowed, true);
    });
    test("add counts after the fact; a single request larger than the limit passes only on an empty window", async () => {
      const s = make();
      assert.equal((await consumeOne(s, "t", 500, 100, 60_000)).allowed, true);
      assert.equal((await consumeOne(s, "t", 1, 100, 60_000)).allowed, false);
      await s.add("u", 99, 60_000);
      assert.equal((await consumeOne(s, "u", 2, 100, 60_000)).allowed, false);
      assert.equal((await consumeOne(s, "u", 1, 100, 60_000)).allowed, true);
    });
    test("concurrency slots", async () => {
      const s = make();
      assert.equal(await takeSlot(s, "c", 2), true);
      assert.equal(await takeSlot(s, "c", 2), true);
      assert.equal(await takeSlot(s, "c", 2), false);
      await s.release("c");
      assert.equal(await takeSlot(s, "c", 2), true);
    });
    test("several checks are judged together: all counted, or none", async () => {
      const s = make();
      const checks = [
        { kind: "window", key: "rpm", amount: 1, limit: 5, windowMs: 60_000 },
        { kind: "window", key: "tpm", amount: 40, limit: 100, windowMs: 60_000 },
        { kind: "slot", key: "conc", limit: 1 },
      ] as const;
      const first = await s.admit(checks);
      assert.equal(first.admitted, true);
      assert.deepEqual(first.results.map((r) => [r.allowed, r.remaining]), [[true, 4], [true, 60], [true, 0]]);
      // The slot is taken: the next admission is refused, and its windows count nothing.
      const second = await s.admit(checks);
      assert.equal(second.admitted, false);
      assert.deepEqual(second.results.map((r) => r.allowed), [true, true, false]);
      assert.equal((await consumeOne(s, "rpm", 1, 5, 60_000)).remaining, 3);
      assert.equal((await consumeOne(s, "tpm", 1, 100, 60_000)).remaining, 59);
      await s.release("conc");
      assert.equal((await s.admit(checks)).admitted, true);
    });
  });
}
