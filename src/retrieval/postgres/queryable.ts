// The few database calls PgRetrievalStore needs, so the same store code runs
// on a pg.Pool (production) and on PGlite (an in-process PostgreSQL with the
// pgvector extension, used by the tests where the server has no pgvector).
import type pg from "pg";
import { applyMigrations, MIGRATION_LOCK_KEY, pgQuery, withTransaction, type PgMigration, type PgPool } from "../../data/postgres/index.js";

export interface SqlRunner {
  /** One statement with $n parameters. */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /** Several statements, no parameters (DDL). */
  exec(sql: string): Promise<void>;
}

export interface Queryable extends SqlRunner {
  /** Runs `fn` in BEGIN/COMMIT on one connection; rolls back when it throws. */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  /** Applies a module's versioned migrations once (see data/postgres applyMigrations). */
  migrate(module: string, migrations: readonly PgMigration[]): Promise<number[]>;
}

export const isQueryable = (x: unknown): x is Queryable =>
  !!x && typeof (x as Queryable).transaction === "function" && typeof (x as Queryable).migrate === "function";

/** A pg.Pool as a Queryable: connection failures become StratumError("Unavailable") (toStorageError). */
export function pgPoolQueryable(pool: PgPool): Queryable {
  const runner = (c: pg.PoolClient): SqlRunner => ({
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const r = await c.query(sql, params as unknown[] | undefined);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    exec: async (sql) => {
      await c.query(sql);
    },
  });
  return {
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const r = await pgQuery(pool, sql, params as unknown[] | undefined);
      return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
    },
    exec: async (sql) => {
      await pgQuery(pool, sql);
    },
    transaction: (fn) => withTransaction(pool, (c) => fn(runner(c))),
    migrate: (module, migrations) => applyMigrations(pool, module, migrations),
  };
}

/** The part of PGlite's API used here (structural: production code does not import PGlite). */
export interface PGliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(fn: (tx: { query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[]; affectedRows?: number }>; exec(sql: string): Promise<unknown> }) => Promise<T>): Promise<T>;
}

/** A PGlite instance as a Queryable (one connection: its transactions run one at a time). */
export function pgliteQueryable(db: PGliteLike): Queryable {
  const wrap = (x: Pick<PGliteLike, "query" | "exec">): SqlRunner => ({
    query: async <R>(sql: string, params?: readonly unknown[]) => {
      const r = await x.query<R>(sql, params ? [...params] : undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    exec: async (sql) => {
      await x.exec(sql);
    },
  });
  const q: Queryable = {
    ...wrap(db),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    migrate: (module, migrations) => migrateWith(q, module, migrations),
  };
  return q;
}

/** applyMigrations over any Queryable (same bookkeeping table and lock). */
export async function migrateWith(q: Queryable, module: string, migrations: readonly PgMigration[]): Promise<number[]> {
  return q.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1::bigint)", [MIGRATION_LOCK_KEY]);
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS stratum_schema_migrations (
         module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
         applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (module, version))`,
    );
    const { rows } = await tx.query<{ version: number }>("SELECT version FROM stratum_schema_migrations WHERE module = $1", [module]);
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query("INSERT INTO stratum_schema_migrations (module, version, name) VALUES ($1, $2, $3)", [module, m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
