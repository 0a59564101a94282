// Versioned, append-only PostgreSQL migrations. Never edit an applied one; add
// a new version. `applyMigrations` is shared by every module that owns tables
// (this list, retrieval/postgres/...): each module's versions are recorded
// under its own name in `stratum_schema_migrations`.
import type pg from "pg";
import { StratumError } from "../../core/errors.js";
import type { PgClient, PgPool } from "./pool.js";
import { withTransaction } from "./pool.js";

export interface PgMigration {
  /** Positive integer, strictly increasing within a module's list. */
  version: number;
  /** Short description, recorded with the version. */
  name: string;
  sql: string;
}

/** Module name of PG_MIGRATIONS in `stratum_schema_migrations`. */
export const PG_MIGRATIONS_MODULE = "stratum";

/**
 * One advisory lock key for all modules: the first migration of any module may
 * create `stratum_schema_migrations`, so migrators must not overlap at all.
 * ("STRATUM" in ASCII.)
 */
export const MIGRATION_LOCK_KEY = "23455135327081805";

/** Keys, usage (rows and hourly sums), sessions, session messages and memory facts. Times are ms since the epoch. */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "api keys and usage",
    sql: `
      CREATE TABLE api_keys (
        rid BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        limits JSONB NOT NULL DEFAULT '{}',
        created_at BIGINT NOT NULL,
        revoked_at BIGINT
      );
      CREATE INDEX api_keys_tenant ON api_keys (tenant, created_at);
      CREATE INDEX api_keys_active_admins ON api_keys (role) WHERE revoked_at IS NULL;
      CREATE TABLE usage (
        request_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        key_id TEXT NOT NULL,
        tenant TEXT NOT NULL,
        user_id TEXT,
        model TEXT NOT NULL,
        deployment TEXT,
        prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL,
        status INTEGER NOT NULL,
        cached BOOLEAN NOT NULL,
        stream BOOLEAN NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL
      );
      CREATE INDEX usage_key_at ON usage (key_id, at) INCLUDE (cost_usd);
      CREATE INDEX usage_tenant_at ON usage (tenant, at);
      CREATE INDEX usage_at ON usage (at);
    `,
  },
  {
    version: 2,
    name: "sessions and session messages",
    sql: `
      CREATE TABLE sessions (
        tenant TEXT NOT NULL,
        id TEXT NOT NULL,
        user_id TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        last_seq BIGINT NOT NULL DEFAULT 0,
        summary_text TEXT,
        summary_covers_through BIGINT,
        PRIMARY KEY (tenant, id)
      );
      CREATE INDEX sessions_tenant_updated ON sessions (tenant, updated_at DESC, id);
      CREATE INDEX sessions_tenant_user_updated ON sessions (tenant, user_id, updated_at DESC, id);
      CREATE TABLE session_messages (
        tenant TEXT NOT NULL,
        session_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        message TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (tenant, session_id, seq),
        FOREIGN KEY (tenant, session_id) REFERENCES sessions (tenant, id) ON DELETE CASCADE
      );
    `,
  },
  {
    version: 3,
    name: "memory facts with full-text search",
    sql: `
      CREATE TABLE memory_facts (
        rid BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        tenant TEXT NOT NULL,
        user_id TEXT NOT NULL,
        text TEXT NOT NULL,
        tags TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        tsv TSVECTOR GENERATED ALWAYS AS (to_tsvector('english'::regconfig, text || ' ' || tags)) STORED
      );
      CREATE INDEX memory_facts_owner ON memory_facts (tenant, user_id, created_at DESC, rid DESC);
      CREATE INDEX memory_facts_tsv ON memory_facts USING GIN (tsv);
    `,
  },
  {
    version: 4,
    name: "tenant spend from the index alone",
    // Budgets sum a tenant's cost over a day or a month (seeding a replica's tally): with cost_usd in
    // the index that is an index-only scan, as it already is for a key.
    sql: `
      CREATE INDEX usage_tenant_at_cost ON usage (tenant, at) INCLUDE (cost_usd);
      DROP INDEX usage_tenant_at;
    `,
  },
  {
    version: 5,
    name: "usage sums per hour",
    // As SQLite's usage_hourly (data/usage-hours.ts): costs and reports read these sums, so the
    // per-request rows can be deleted after a retention period without changing them.
    sql: `
      CREATE TABLE usage_hourly (
        hour BIGINT NOT NULL,
        key_id TEXT NOT NULL,
        model TEXT NOT NULL,
        tenant TEXT NOT NULL,
        requests BIGINT NOT NULL,
        prompt_tokens BIGINT NOT NULL,
        completion_tokens BIGINT NOT NULL,
        cost_usd DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (hour, key_id, model)
      );
      CREATE INDEX usage_hourly_key ON usage_hourly (key_id, hour) INCLUDE (cost_usd);
      CREATE INDEX usage_hourly_tenant ON usage_hourly (tenant, hour) INCLUDE (cost_usd);
      INSERT INTO usage_hourly (hour, key_id, model, tenant, requests, prompt_tokens, completion_tokens, cost_usd)
        SELECT at - (at % 3600000), key_id, model, MAX(tenant), COUNT(*), SUM(prompt_tokens), SUM(completion_tokens), SUM(cost_usd)
        FROM usage GROUP BY at - (at % 3600000), key_id, model;
    `,
  },
];

function validate(module: string, migrations: readonly PgMigration[]): void {
  if (!module) throw new StratumError("InvalidRequest", "migration module name is empty");
  let prev = 0;
  for (const m of migrations) {
    if (!Number.isInteger(m.version) || m.version <= prev) {
      throw new StratumError("Internal", `migrations for '${module}' must have strictly increasing positive integer versions (got ${m.version} after ${prev})`);
    }
    prev = m.version;
  }
}

export interface ApplyMigrationsOptions {
  /** Upper bound for the whole run, including waiting for another replica's run (default 10 min). */
  timeoutMs?: number;
}

/**
 * Applies the versions of `migrations` not yet recorded for `module`, in order,
 * in one transaction under a transaction-scoped advisory lock, so replicas
 * starting together apply each migration exactly once (the others wait, then
 * find nothing to do). Tables go into the first schema on the pool's search_path.
 * Returns the versions applied by this call.
 */
export async function applyMigrations(
  pool: PgPool,
  module: string,
  migrations: readonly PgMigration[],
  opts: ApplyMigrationsOptions = {},
): Promise<number[]> {
  validate(module, migrations);
  const timeoutMs = Math.max(1_000, Math.round(opts.timeoutMs ?? 600_000));
  // pg honours a per-query query_timeout (client-side guard), which its types omit.
  const q = (client: PgClient, text: string, values?: unknown[]) =>
    client.query<{ version: number }>({ text, values, query_timeout: timeoutMs + 5_000 } as pg.QueryConfig);
  return withTransaction(pool, async (client) => {
    // DDL and the lock wait may take longer than an ordinary statement.
    await q(client, `SET LOCAL statement_timeout = ${timeoutMs}`);
    await q(client, "SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
    await q(
      client,
      `CREATE TABLE IF NOT EXISTS stratum_schema_migrations (
         module TEXT NOT NULL,
         version INTEGER NOT NULL,
         name TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
         PRIMARY KEY (module, version)
       )`,
    );
    const { rows } = await q(client, "SELECT version FROM stratum_schema_migrations WHERE module = $1", [module]);
    const done = new Set(rows.map((r: { version: number }) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await q(client, m.sql);
      await q(client, "INSERT INTO stratum_schema_migrations (module, version, name) VALUES ($1, $2, $3)", [module, m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}

/** Applies PG_MIGRATIONS (keys, usage, sessions, memory) to the pool's schema. */
export function migrateStratum(pool: PgPool, opts?: ApplyMigrationsOptions): Promise<number[]> {
  return applyMigrations(pool, PG_MIGRATIONS_MODULE, PG_MIGRATIONS, opts);
}
