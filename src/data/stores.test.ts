// Contract tests: every implementation of a store interface must pass the
// same suite (PostgreSQL and Redis implementations join these lists).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  MemoryCacheStore,
  MemoryRateLimitStore,
  MemorySemanticCacheStore,
  openDatabase,
  SqliteCacheStore,
  SqliteKeyStore,
  SqliteSemanticCacheStore,
  SqliteUsageStore,
} from "./index.js";
import type { CacheStore, KeyStore, RateLimitStore, SemanticCacheStore, UsageStore } from "./types.js";
import { RedisCacheStore, RedisRateLimitStore, RedisSemanticCacheStore } from "./redis/index.js";
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

const semanticStores: Array<[string, () => SemanticCacheStore<string>]> = [
  ["memory", () => new MemorySemanticCacheStore(100)],
  ["sqlite", () => new SqliteSemanticCacheStore(openDatabase(":memory:"), 100)],
  ...(skipRedis ? [] : [["redis", () => new RedisSemanticCacheStore<string>(testRedis())] as [string, () => SemanticCacheStore<string>]]),
];
const unit = (...xs: number[]) => {
  const n = Math.hypot(...xs);
  return Float32Array.from(xs, (x) => x / n);
};

for (const [name, make] of semanticStores) {
  describe(`SemanticCacheStore contract: ${name}`, () => {
    test("the most similar live entry of the partition, if similar enough; expiry; other partitions apart", async () => {
      const s = make();
      await s.add("t:a", unit(1, 0), "east", 60_000);
      await s.add("t:a", unit(0, 1), "north", 60_000);
      await s.add("t:b", unit(1, 0), "other partition", 60_000);
      const hit = await s.nearest("t:a", unit(1, 0.1), 0.9);
      assert.equal(hit?.value, "east");
      assert.ok(hit!.score > 0.99 && hit!.score <= 1.0001, String(hit!.score));
      assert.equal(await s.nearest("t:a", unit(1, 1), 0.9), undefined, "45 degrees from both: below 0.9");
      assert.equal(await s.nearest("t:c", unit(1, 0), 0), undefined);
      assert.equal(await s.nearest("t:a", unit(1, 0, 0), 0), undefined, "another dimension never matches");
      await s.add("t:a", unit(-1, 0), "west", 20);
      await new Promise((r) => setTimeout(r, 40));
      assert.equal(await s.nearest("t:a", unit(-1, 0), 0.5), undefined, "expired");
      assert.equal((await s.nearest("t:a", unit(0, 1), 0.9))?.value, "north");
    });
    test("clear by prefix leaves other tenants alone, even with LIKE wildcards in partitions", async () => {
      const s = make();
      await s.add("t_1:x", unit(1, 0), "one", 60_000);
      await s.add("t%1:y", unit(1, 0), "two", 60_000);
      await s.clear("t_1:");
      assert.equal(await s.nearest("t_1:x", unit(1, 0), 0), undefined);
      assert.equal((await s.nearest("t%1:y", unit(1, 0), 0))?.value, "two");
    });
  });
}

describe("SemanticCacheStore: bounds", () => {
  test("memory and SQLite keep at most maxEntries, the oldest dropped first", async () => {
    const memory = new MemorySemanticCacheStore<string>(3);
    for (const [i, v] of ["a", "b", "c", "d"].entries()) await memory.add("t:p", unit(1, i), v, 60_000);
    assert.equal(memory.size, 3);
    assert.equal((await memory.nearest("t:p", unit(1, 0), 0.999))?.value, undefined, "the oldest is gone");
    const db = openDatabase(":memory:");
    const sqlite = new SqliteSemanticCacheStore<string>(db, 50);
    const dir = (i: number) => unit(Math.cos((i * 2 * Math.PI) / 400), Math.sin((i * 2 * Math.PI) / 400));
    for (let i = 0; i < 400; i++) await sqlite.add("t:p", dir(i), `v${i}`, 60_000); // sweeps every 200 writes
    const rows = (db.prepare("SELECT COUNT(*) AS n FROM semantic_cache").get() as { n: number }).n;
    assert.ok(rows <= 50 + 200, `${rows} rows`);
    assert.equal((await sqlite.nearest("t:p", dir(399), 0.999999))?.value, "v399");
    assert.equal(await sqlite.nearest("t:p", dir(0), 0.999999), undefined, "the oldest were swept");
  });

  test("Redis keeps at most maxPerPartition entries per partition, newest first", { skip: skipRedis }, async () => {
    const s = new RedisSemanticCacheStore<string>(testRedis(), { maxPerPartition: 2 });
    for (const [i, v] of ["a", "b", "c"].entries()) await s.add("t:r", unit(1, i * 10), v, 60_000);
    assert.equal(await s.nearest("t:r", unit(1, 0), 0.9999), undefined, "the oldest is gone");
    assert.equal((await s.nearest("t:r", unit(1, 20), 0.9999))?.value, "c");
  });
});

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
      const rec = (at: number, keyId: string, costUsd: number, tenant = "t") => ({
        requestId: `r${at}`, at, keyId, tenant, user: null, model: "m", deployment: "d", promptTokens: 10, completionTokens: 5, costUsd, status: 200, cached: false, stream: false, latencyMs: 1,
      });
      await s.append([rec(100, "k", 0.5), rec(200, "k", 0.25), rec(300, "other", 9), rec(400, "k3", 2, "u")]);
      assert.equal(await s.costSince({ kind: "key", id: "k" }, 0), 0.75);
      assert.equal(await s.costSince({ kind: "key", id: "k" }, 150), 0.25);
      assert.equal(await s.costSince({ kind: "tenant", id: "t" }, 0), 9.75, "every key of the tenant");
      assert.equal(await s.costSince({ kind: "tenant", id: "t" }, 250), 9);
      assert.equal(await s.costSince({ kind: "tenant", id: "k" }, 0), 0, "a key id is not a tenant");
      const sum = await s.summary({ since: 0 });
      const k = sum.find((r) => r.keyId === "k")!;
      assert.equal(k.requests, 2);
      assert.equal(k.promptTokens, 20);
    });

    test("hourly: totals per UTC hour over keys and models, oldest first, from the hour that contains since", async () => {
      const s = await make();
      const H = 3_600_000;
      const rec = (at: number, keyId: string, tenant: string, costUsd: number, model = "m") => ({
        requestId: `h${at}${keyId}`, at, keyId, tenant, user: null, model, deployment: "d", promptTokens: 10, completionTokens: 5, costUsd, status: 200, cached: false, stream: false, latencyMs: 1,
      });
      await s.append([rec(5 * H + 1, "a", "t1", 1), rec(5 * H + 2, "b", "t2", 2, "m2"), rec(2 * H + 9, "a", "t1", 4), rec(7 * H, "a", "t1", 8)]);
      await s.append([rec(2 * H + 10, "a", "t1", 16, "m2")]);
      const view = (rows: Awaited<ReturnType<UsageStore["hourly"]>>) => rows.map((r) => [r.hour / H, r.requests, r.promptTokens, r.completionTokens, r.costUsd]);
      assert.deepEqual(view(await s.hourly({ since: 0 })), [[2, 2, 20, 10, 20], [5, 2, 20, 10, 3], [7, 1, 10, 5, 8]]);
      assert.deepEqual(view(await s.hourly({ since: 5 * H + 30 })), [[5, 2, 20, 10, 3], [7, 1, 10, 5, 8]], "the hour of since is whole");
      assert.deepEqual(view(await s.hourly({ since: 0, tenant: "t2" })), [[5, 1, 10, 5, 2]]);
      assert.deepEqual(await s.hourly({ since: 8 * H }), []);
    });

    test("old rows are deleted in bounded batches, oldest first; sums of whole hours stay", async () => {
      const s = await make();
      const H = 3_600_000;
      const rec = (at: number, keyId: string, costUsd: number, model = "m") => ({
        requestId: `r${at}${keyId}`, at, keyId, tenant: "t", user: null, model, deployment: "d", promptTokens: 10, completionTokens: 5, costUsd, status: 200, cached: false, stream: false, latencyMs: 1,
      });
      // Hour 0 (two batches: its sums add up), hour 1 (two models), hour 5.
      await s.append([rec(10, "k", 1), rec(H / 2, "k", 2)]);
      await s.append([rec(H / 4, "k", 4), rec(H + 5, "k", 8), rec(H + 6, "k", 16, "m2"), rec(5 * H + 1, "k", 32)]);
      const before = await s.summary({ since: 0 });
      assert.deepEqual(before.map((r) => [r.model, r.requests, r.costUsd]), [["m", 5, 47], ["m2", 1, 16]], "costliest first");
      assert.equal(await s.costSince({ kind: "key", id: "k" }, H / 3), 2 + 8 + 16 + 32, "part of hour 0 from its rows, then whole hours");

      assert.equal(await s.deleteRowsBefore(2 * H, 2), 2, "at most the limit");
      assert.equal(await s.deleteRowsBefore(2 * H, 2), 2);
      assert.equal(await s.deleteRowsBefore(2 * H, 2), 1);
      assert.equal(await s.deleteRowsBefore(2 * H, 2), 0, "rows after the point stay");
      assert.deepEqual(await s.summary({ since: 0 }), before, "periods that start on the hour read the sums");
      assert.equal(await s.costSince({ kind: "key", id: "k" }, 0), 63);
      assert.equal(await s.costSince({ kind: "tenant", id: "t" }, H), 56);
      // Off the hour, the part before the first whole hour came from rows: gone before the point, kept after it.
      assert.equal(await s.costSince({ kind: "key", id: "k" }, H / 3), 8 + 16 + 32);
      assert.equal(await s.costSince({ kind: "key", id: "k" }, 5 * H), 32);
      assert.deepEqual((await s.summary({ since: 5 * H })).map((r) => [r.requests, r.costUsd]), [[1, 32]]);
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
