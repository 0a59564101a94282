// Test support for the PostgreSQL stores: each test file gets its own fresh
// schema (stratum_test_<random>) on STRATUM_TEST_POSTGRES_URL, migrated, and
// dropped at the end. An unreachable server fails the PostgreSQL tests with a
// clear message; STRATUM_SKIP_POSTGRES=1 leaves them out instead. Not part of the build.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { createPgPool, migrateStratum, type PgPool } from "../data/postgres/index.js";

export const TEST_POSTGRES_URL = process.env.STRATUM_TEST_POSTGRES_URL || "postgres://postgres@127.0.0.1:5432/test";

/** False when STRATUM_SKIP_POSTGRES=1: callers then do not register their PostgreSQL runs. */
export const postgresTestsEnabled = process.env.STRATUM_SKIP_POSTGRES !== "1";

export interface PgTestSchema {
  schema: string;
  /** A pool whose search_path is the schema (already migrated unless `migrate: false`). */
  pool: PgPool;
  /** Another pool on the same schema (closed by `drop`). */
  newPool(opts?: { max?: number }): PgPool;
  /** Empty every Stratum table in the schema. */
  truncate(): Promise<void>;
  /** Close the pools and drop the schema. */
  drop(): Promise<void>;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/** Creates a fresh schema (and migrates it unless `migrate: false`). Rejects with a clear message when the server is unreachable. */
export async function createTestSchema(opts: { migrate?: boolean; prefix?: string } = {}): Promise<PgTestSchema> {
  const schema = `${opts.prefix ?? "stratum_test"}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (e) {
    await admin.end().catch(() => {});
    const why = e instanceof Error ? e.message || (e as { code?: string }).code || e.name : String(e);
    throw new Error(
      `PostgreSQL tests need a server at ${redact(TEST_POSTGRES_URL)} (set STRATUM_TEST_POSTGRES_URL), but it failed: ${why}. ` +
        "Start PostgreSQL, or set STRATUM_SKIP_POSTGRES=1 to leave the PostgreSQL runs out.",
      { cause: e },
    );
  }
  await admin.end();
  const pools: PgPool[] = [];
  const newPool = (o: { max?: number } = {}) => {
    const p = createPgPool(TEST_POSTGRES_URL, { schema, max: o.max ?? 10 });
    pools.push(p);
    return p;
  };
  const pool = newPool();
  const drop = async () => {
    await Promise.all(pools.splice(0).map((p) => p.end().catch(() => {})));
    const c = new pg.Client({ connectionString: TEST_POSTGRES_URL, connectionTimeoutMillis: 5_000 });
    await c.connect();
    try {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await c.end();
    }
  };
  try {
    if (opts.migrate !== false) await migrateStratum(pool);
  } catch (e) {
    await drop().catch(() => {});
    throw e;
  }
  return {
    schema,
    pool,
    newPool,
    truncate: async () => {
      const { rows } = await pool.query<{ tablename: string }>(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'stratum_schema_migrations'",
        [schema],
      );
      if (rows.length) await pool.query(`TRUNCATE ${rows.map((r) => `${schema}."${r.tablename}"`).join(", ")} RESTART IDENTITY CASCADE`);
    },
    drop,
  };
}

/**
 * One lazily created schema shared by a test file: `get()` creates it on first
 * use (so an unreachable server fails each test with the message above) and
 * `drop()` removes it; register `after(() => shared.drop())` at the top level.
 */
export function sharedTestSchema(opts: { migrate?: boolean } = {}): { get(): Promise<PgTestSchema>; drop(): Promise<void> } {
  let pending: Promise<PgTestSchema> | undefined;
  return {
    get: () => (pending ??= createTestSchema(opts)),
    drop: async () => {
      if (!pending) return;
      const s = await pending.catch(() => undefined);
      pending = undefined;
      await s?.drop();
    },
  };
}
