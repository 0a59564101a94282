// Durable state by config: the embedded SQLite file (default) or PostgreSQL,
// behind the same store interfaces. The server, the CLI and tests open it here.
import { join, resolve } from "node:path";
import type { Config } from "../config/schema.js";
import {
  createPgPool,
  migrateStratum,
  openDatabase,
  PgKeyStore,
  PgUsageStore,
  SqliteKeyStore,
  SqliteUsageStore,
  type KeyStore,
  type PgPool,
  type SqliteDb,
  type UsageStore,
} from "../data/index.js";
import { pgQuery } from "../data/postgres/index.js";
import { migrateRetrieval, PgRetrievalStore, SqliteRetrievalStore, type RetrievalStore } from "../retrieval/index.js";
import { PgMemoryStore, PgSessionStore, SqliteMemoryStore, SqliteSessionStore, type MemoryStore, type SessionStore } from "../sessions/index.js";
import { PgDriftStore, SqliteDriftStore, type DriftStore } from "../drift/index.js";
import { PgApprovalStore, SqliteApprovalStore, type ApprovalQueue } from "../tools/index.js";
import { PgEvalStore, SqliteEvalStore, type EvalStore } from "../evals/index.js";
import { PgTraceStore, SqliteTraceStore, type TraceStore } from "../tracing/index.js";
import { migrateRegistry, PgRegistryStore, SqliteRegistryStore, type RegistryStore } from "../registry/index.js";
import { migrateRollouts, PgRolloutStore, SqliteRolloutStore, type RolloutStore } from "../rollouts/index.js";

export interface Storage {
  engine: "sqlite" | "postgres";
  keys: KeyStore;
  usage: UsageStore;
  sessions: SessionStore;
  memory: MemoryStore;
  retrieval: RetrievalStore;
  /** Drift reference and current windows (a restart keeps the reference). */
  drift: DriftStore;
  /** Tool-call approvals (suspended runs wait here; every replica sees the same queue). */
  approvals: ApprovalQueue;
  /** Stored eval runs (`stratum eval`). */
  evals: EvalStore;
  /** Spans, trace summaries, feedback and online-eval scores (`/v1/traces`). */
  traces: TraceStore;
  /** Versioned pipeline configs, prompts and routes with their aliases. */
  registry: RegistryStore;
  /** Rollouts, their logs, per-version samples and shadow comparisons (shared by replicas). */
  rollouts: RolloutStore;
  /** The SQLite file, when storage is SQLite (the optional SQLite response cache lives in it). */
  sqlite?: SqliteDb;
  /** Rejects when the engine does not answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export async function openStorage(config: Config): Promise<Storage> {
  if (config.storage === "postgres") return openPostgres(config);
  const db = openDatabase(join(resolve(config.dataDir), "stratum.db"));
  const traces = new SqliteTraceStore(db);
  return {
    engine: "sqlite",
    keys: new SqliteKeyStore(db),
    usage: new SqliteUsageStore(db),
    sessions: new SqliteSessionStore(db, { maxMessages: config.sessions.maxMessages }),
    memory: new SqliteMemoryStore(db),
    retrieval: new SqliteRetrievalStore(db),
    drift: new SqliteDriftStore(db),
    approvals: new SqliteApprovalStore(db),
    evals: new SqliteEvalStore(db),
    traces,
    registry: new SqliteRegistryStore(db),
    rollouts: new SqliteRolloutStore(db),
    sqlite: db,
    ping: async () => {
      db.prepare("SELECT 1").get();
    },
    close: async () => {
      await traces.close(); // its write thread
      db.close();
    },
  };
}

async function openPostgres(config: Config): Promise<Storage> {
  const url = config.postgres?.url?.reveal() ?? process.env.DATABASE_URL!;
  const schema = config.postgres?.schema ?? "public";
  if (schema !== "public") {
    const bootstrap = createPgPool(url, { max: 1 });
    try {
      await pgQuery(bootstrap, `CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await bootstrap.end();
    }
  }
  const pool: PgPool = createPgPool(url, { max: config.postgres?.maxConnections ?? 10, schema });
  // Migrations take an advisory lock: replicas starting together apply each version once.
  await migrateStratum(pool);
  await migrateRetrieval(pool);
  await migrateRegistry(pool);
  await migrateRollouts(pool);
  return {
    engine: "postgres",
    keys: new PgKeyStore(pool),
    usage: new PgUsageStore(pool),
    sessions: new PgSessionStore(pool, { maxMessages: config.sessions.maxMessages }),
    memory: new PgMemoryStore(pool),
    retrieval: await PgRetrievalStore.open(pool),
    drift: await PgDriftStore.open(pool),
    approvals: await PgApprovalStore.open(pool),
    evals: await PgEvalStore.open(pool),
    traces: await PgTraceStore.open(pool),
    registry: new PgRegistryStore(pool),
    rollouts: new PgRolloutStore(pool),
    ping: async () => {
      await pgQuery(pool, "SELECT 1");
    },
    close: () => pool.end(),
  };
}
