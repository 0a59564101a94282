// PostgreSQL-specific behaviour beyond the contract suites: migrations
// (idempotent, concurrent, atomic, per module) and failure mapping (a dead or
// silent database is a fast, retryable StratumError("Unavailable")).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { isStratumError } from "../../core/errors.js";
import { PgMemoryStore, PgSessionStore } from "../../sessions/postgres/index.js";
import { createTestSchema, postgresTestsEnabled, sharedTestSchema } from "../../testing/postgres.js";
import type { UsageRecord } from "../types.js";
import {
  applyMigrations,
  createPgPool,
  migrateStratum,
  PG_MIGRATIONS,
  PG_MIGRATIONS_MODULE,
  PgKeyStore,
  PgUsageStore,
  pgQuery,
  withTransaction,
  type PgMigration,
} from "./index.js";

const isUnavailable = (e: unknown) => {
  assert.ok(isStratumError(e), `expected a StratumError, got ${String(e)}`);
  assert.equal(e.kind, "Unavailable");
  assert.equal(e.code, "storage_unavailable");
  assert.equal(e.retryable, true);
  return true;
};

async function tables(pool: ReturnType<typeof createPgPool>, schema: string): Promise<string[]> {
  const { rows } = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 ORDER BY 1", [schema]);
  return rows.map((r) => r.t);
}

describe("PostgreSQL failures surface as StratumError(Unavailable)", () => {
  test("a store pointed at a closed port rejects fast, for plain queries and transactions", async () => {
    const pool = createPgPool("postgres://postgres@127.0.0.1:1/test", { connectionTimeoutMs: 2_000 });
    try {
      const started = Date.now();
      await assert.rejects(new PgKeyStore(pool).get("k"), isUnavailable);
      await assert.rejects(new PgUsageStore(pool).append([usage(1, "k", 1)]), isUnavailable);
      await assert.rejects(new PgSessionStore(pool).appendTurns("t", "s", [{ role: "user", content: "x" }]), isUnavailable);
      await assert.rejects(new PgMemoryStore(pool).search("t", "u", "vintage cameras", 3), isUnavailable);
      await assert.rejects(migrateStratum(pool), isUnavailable);
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started}ms`);
    } finally {
      await pool.end();
    }
  });

  test("a server that accepts but never answers times out instead of hanging", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const pool = createPgPool(`postgres://postgres@127.0.0.1:${port}/test`, { connectionTimeoutMs: 300 });
    try {
      const started = Date.now();
      await assert.rejects(new PgKeyStore(pool).countAdmins(), isUnavailable);
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started}ms`);
    } finally {
      await pool.end().catch(() => {});
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  test("an invalid schema name is refused before anything reaches the server", () => {
    assert.throws(() => createPgPool("postgres://x@127.0.0.1:1/x", { schema: "a; DROP TABLE x" }), (e) => isStratumError(e) && e.kind === "InvalidRequest");
  });
});

if (postgresTestsEnabled) {
  const shared = sharedTestSchema();
  after(() => shared.drop());

  describe("PostgreSQL migrations", () => {
    test("apply once, record their versions, and are a no-op the second time", async () => {
      const s = await createTestSchema({ migrate: false });
      try {
        assert.deepEqual(await migrateStratum(s.pool), PG_MIGRATIONS.map((m) => m.version));
        assert.deepEqual(await migrateStratum(s.pool), []);
        assert.deepEqual(await applyMigrations(s.pool, PG_MIGRATIONS_MODULE, PG_MIGRATIONS), []);
        const { rows } = await s.pool.query("SELECT module, version FROM stratum_schema_migrations ORDER BY version");
        assert.deepEqual(rows, PG_MIGRATIONS.map((m) => ({ module: "stratum", version: m.version })));
        assert.deepEqual(await tables(s.pool, s.schema), ["api_keys", "memory_facts", "session_messages", "sessions", "stratum_schema_migrations", "usage", "usage_hourly"]);
      } finally {
        await s.drop();
      }
    });

    test("version 5 sums the usage rows already there into their hours", async () => {
      const s = await createTestSchema({ migrate: false });
      try {
        await applyMigrations(s.pool, PG_MIGRATIONS_MODULE, PG_MIGRATIONS.filter((m) => m.version < 5));
        const H = 3_600_000;
        await s.pool.query(
          `INSERT INTO usage (request_id, at, key_id, tenant, user_id, model, deployment, prompt_tokens, completion_tokens, cost_usd, status, cached, stream, latency_ms)
           SELECT 'r' || i, i * ${H / 2}, 'k', 't', NULL, 'm', NULL, 10, 5, 0.5, 200, false, false, 1 FROM generate_series(0, 5) AS i`,
        );
        assert.deepEqual(await migrateStratum(s.pool), [5]);
        const store = new PgUsageStore(s.pool);
        assert.deepEqual(await store.summary({ since: 0 }), [{ keyId: "k", model: "m", requests: 6, promptTokens: 60, completionTokens: 30, costUsd: 3 }]);
        assert.equal(await store.deleteRowsBefore(10 * H, 100), 6);
        assert.equal(await store.costSince({ kind: "tenant", id: "t" }, H), 2, "hours 1 and 2 from the sums alone");
      } finally {
        await s.drop();
      }
    });

    test("several replicas migrating at once apply each version exactly once", async () => {
      const s = await createTestSchema({ migrate: false });
      try {
        const pools = Array.from({ length: 6 }, () => s.newPool({ max: 2 }));
        const results = await Promise.all(pools.map((p) => migrateStratum(p)));
        assert.equal(results.filter((r) => r.length > 0).length, 1, JSON.stringify(results));
        assert.deepEqual(results.flat(), PG_MIGRATIONS.map((m) => m.version));
        const { rows } = await s.pool.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM stratum_schema_migrations");
        assert.equal(rows[0]!.n, PG_MIGRATIONS.length);
      } finally {
        await s.drop();
      }
    });

    test("other modules reuse the runner under their own name; a failing run applies nothing", async () => {
      const s = await createTestSchema({ migrate: false });
      try {
        const mine: PgMigration[] = [{ version: 1, name: "widgets", sql: "CREATE TABLE widgets (id INT PRIMARY KEY)" }];
        assert.deepEqual(await applyMigrations(s.pool, "widgets", mine), [1]);
        assert.deepEqual(await migrateStratum(s.pool), PG_MIGRATIONS.map((m) => m.version), "versions are per module");
        const more: PgMigration[] = [
          ...mine,
          { version: 2, name: "gadgets", sql: "CREATE TABLE gadgets (id INT)" },
          { version: 3, name: "broken", sql: "CREATE TABLE oops (" },
        ];
        await assert.rejects(applyMigrations(s.pool, "widgets", more), (e) => !isStratumError(e));
        assert.ok(!(await tables(s.pool, s.schema)).includes("gadgets"), "version 2 rolled back with 3");
        assert.deepEqual(await applyMigrations(s.pool, "widgets", more.slice(0, 2)), [2]);
        await assert.rejects(applyMigrations(s.pool, "widgets", [mine[0]!, mine[0]!]), (e) => isStratumError(e));
      } finally {
        await s.drop();
      }
    });
  });

  describe("PostgreSQL stores: details", () => {
    test("constraint violations are rethrown as they are, not as Unavailable", async () => {
      const { pool } = await shared.get();
      const keys = new PgKeyStore(pool);
      const base = { name: "", role: "user" as const, prefix: "sk-", limits: {}, createdAt: 1, revokedAt: null, tenant: "t" };
      await keys.create({ ...base, id: "dup1", hash: "dup-hash" });
      await assert.rejects(keys.create({ ...base, id: "dup2", hash: "dup-hash" }), (e) => !isStratumError(e) && (e as { code?: string }).code === "23505");
    });

    test("a statement past statement_timeout is Unavailable", async () => {
      const s = await shared.get();
      const pool = createPgPool(process.env.STRATUM_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test", { schema: s.schema, statementTimeoutMs: 100 });
      try {
        await assert.rejects(pgQuery(pool, "SELECT pg_sleep(2)"), isUnavailable);
        assert.equal((await pgQuery<{ one: number }>(pool, "SELECT 1 AS one")).rows[0]!.one, 1, "the pool recovers");
      } finally {
        await pool.end();
      }
    });

    test("usage: replicas appending the same hours at once add up exactly, without deadlocks", async () => {
      const s = await shared.get();
      await s.truncate();
      const pools = Array.from({ length: 4 }, () => s.newPool({ max: 2 }));
      try {
        // Every batch touches the same 12 (hour, key, model) sums, each replica's rows in a different order.
        const batches = Array.from({ length: 40 }, (_, b) => {
          const rows = Array.from({ length: 60 }, (_, i) => ({ ...usage(b * 1_000 + i + (i % 2) * 3_600_000, `k${i % 3}`, 0.25), model: `m${(i >> 1) % 2}` }));
          return b % 2 ? rows.reverse() : rows;
        });
        await Promise.all(batches.map((rows, b) => new PgUsageStore(pools[b % pools.length]!).append(rows)));
        const store = new PgUsageStore(s.pool);
        const sum = await store.summary({ since: 0 });
        assert.equal(sum.reduce((n, r) => n + r.requests, 0), 2_400);
        assert.equal(await store.costSince({ kind: "tenant", id: "t" }, 0), 600);
        const { rows } = await s.pool.query<{ n: number }>("SELECT COUNT(*)::int AS n FROM usage_hourly");
        assert.equal(rows[0]!.n, 2 * 3 * 2, "hours × keys × models");
      } finally {
        await Promise.all(pools.map((p) => p.end()));
      }
    });

    test("usage: large batches in one transaction, summaries by tenant with numbers, not strings", async () => {
      const s = await shared.get();
      await s.truncate();
      const store = new PgUsageStore(s.pool);
      // A key belongs to one tenant: k1 and k2 to "a", k0 to "b".
      const batch = Array.from({ length: 12_000 }, (_, i) => ({ ...usage(1_000 + i, `k${i % 3}`, 0.001), tenant: i % 3 ? "a" : "b" }));
      await store.append(batch);
      const all = await store.summary({ since: 0 });
      assert.equal(all.reduce((n, r) => n + r.requests, 0), 12_000);
      const a = await store.summary({ since: 0, tenant: "a" });
      assert.equal(a.reduce((n, r) => n + r.requests, 0), 8_000);
      for (const r of a) for (const v of [r.requests, r.promptTokens, r.completionTokens, r.costUsd]) assert.equal(typeof v, "number");
      assert.ok(Math.abs((await store.costSince({ kind: "key", id: "k1" }, 0)) - 4) < 1e-9);
      assert.ok(Math.abs((await store.costSince({ kind: "tenant", id: "b" }, 0)) - 4) < 1e-9, "a third of 12,000 records at $0.001");
      assert.ok(Math.abs((await store.costSince({ kind: "tenant", id: "a" }, 500)) - 8) < 1e-9, "off the hour: rows, then sums");
      assert.equal(await store.costSince({ kind: "key", id: "nobody" }, 0), 0);
      await store.append([]);
      // A key's or a tenant's spend (budget seeding) is read from indexes alone, never the tables.
      await pgQuery(s.pool, "VACUUM ANALYZE usage, usage_hourly"); // sets the visibility map an index-only scan relies on
      await withTransaction(s.pool, async (client) => {
        await client.query("SET LOCAL enable_seqscan = off");
        await client.query("SET LOCAL enable_bitmapscan = off");
        for (const column of ["key_id", "tenant"]) {
          for (const [table, time] of [["usage_hourly", "hour"], ["usage", "at"]]) {
            const { rows } = await client.query(`EXPLAIN (FORMAT JSON) SELECT COALESCE(SUM(cost_usd), 0) FROM ${table} WHERE ${column} = $1 AND ${time} >= $2 AND ${time} < $3`, ["b", 0, 1]);
            const plan = JSON.stringify(rows[0]);
            assert.match(plan, /Index Only Scan/, `${table}.${column}: ${plan}`);
          }
        }
      });
    });
  });
}

function usage(at: number, keyId: string, costUsd: number): UsageRecord {
  return {
    requestId: `r${at}`, at, keyId, tenant: "t", user: "u", model: "m", deployment: null, promptTokens: 10, completionTokens: 5, costUsd, status: 200, cached: true, stream: false, latencyMs: 1.5,
  };
}
