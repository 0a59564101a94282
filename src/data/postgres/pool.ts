// A pg connection pool for Stratum's PostgreSQL stores, with bounded waits so a
// dead or partitioned database turns into a fast error instead of a hung request.
import type pg from "pg";
import { StratumError } from "../../core/errors.js";
import { lazyModule } from "../../core/lazy-module.js";
import { isPgUnavailable, toStorageError } from "./errors.js";

// Loaded on first use: an embedded (SQLite) server never carries the driver.
const driver = lazyModule<typeof pg>("pg");

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

export interface PgPoolOptions {
  /** Connections kept at most (default 10). */
  max?: number;
  /** Schema to use (sets `search_path`); must already exist. Lets tests isolate in a fresh schema. */
  schema?: string;
  /** Server-side statement_timeout in ms (default 15 000). */
  statementTimeoutMs?: number;
  /** Waiting for a connection (new or from the pool) fails after this many ms (default 5 000). */
  connectionTimeoutMs?: number;
  /** Idle connections are closed after this many ms (default 30 000). */
  idleTimeoutMs?: number;
  /** `application_name` reported to the server (default "stratum"). */
  applicationName?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Throws InvalidRequest unless `name` is a plain SQL identifier (letters, digits, underscore). */
export function assertIdentifier(name: string, what = "schema"): string {
  if (!IDENT.test(name)) throw new StratumError("InvalidRequest", `invalid PostgreSQL ${what} name '${name}'`, { param: what });
  return name;
}

export function createPgPool(url: string, opts: PgPoolOptions = {}): PgPool {
  const statementTimeout = Math.max(1, opts.statementTimeoutMs ?? 15_000);
  const config: pg.PoolConfig = {
    connectionString: url,
    max: Math.max(1, opts.max ?? 10),
    connectionTimeoutMillis: Math.max(1, opts.connectionTimeoutMs ?? 5_000),
    idleTimeoutMillis: opts.idleTimeoutMs ?? 30_000,
    application_name: opts.applicationName ?? "stratum",
    statement_timeout: statementTimeout,
    // A transaction left open by a stuck caller must not hold row locks forever.
    idle_in_transaction_session_timeout: Math.max(60_000, statementTimeout * 2),
    // Client-side guard for when the server never answers at all (network black hole).
    query_timeout: statementTimeout + 5_000,
    keepAlive: true,
  };
  if (opts.schema !== undefined) config.options = `-c search_path=${assertIdentifier(opts.schema)}`;
  const { Pool } = driver();
  const pool = new Pool(config);
  // An idle client losing its connection emits 'error' on the pool; without a
  // listener that would crash the process. The next query reconnects.
  pool.on("error", () => {});
  return pool;
}

/** One statement on a pooled connection; connection failures become StratumError("Unavailable"). */
export async function pgQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  pool: PgPool,
  text: string,
  values?: unknown[],
): Promise<pg.QueryResult<R>> {
  try {
    return await pool.query<R>(text, values);
  } catch (e) {
    throw toStorageError(e);
  }
}

/**
 * Runs `fn` inside BEGIN/COMMIT on one connection; rolls back on any error.
 * A connection that failed is discarded rather than returned to the pool.
 */
export async function withTransaction<T>(pool: PgPool, fn: (client: PgClient) => Promise<T>, opts: { begin?: string } = {}): Promise<T> {
  let client: PgClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw toStorageError(e);
  }
  let broken: Error | undefined;
  try {
    await client.query(opts.begin ?? "BEGIN");
    const out = await fn(client);
    await client.query("COMMIT");
    return out;
  } catch (e) {
    if (isPgUnavailable(e)) {
      // The connection is lost or stuck: the server rolls back on disconnect.
      broken = e instanceof Error ? e : new Error(String(e));
    } else {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
    }
    throw toStorageError(e);
  } finally {
    client.release(broken);
  }
}
