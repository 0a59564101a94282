// Rollout tables in PostgreSQL: versioned migrations of the "rollouts" module.
import { applyMigrations, type PgMigration, type PgPool } from "../../data/postgres/index.js";

export const ROLLOUTS_PG_MODULE = "rollouts";

export const ROLLOUTS_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "rollouts, log, samples, scores, shadow comparisons",
    sql: `
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        pipeline TEXT NOT NULL,
        alias TEXT NOT NULL,
        strategy TEXT NOT NULL,
        from_version INTEGER NOT NULL,
        to_version INTEGER NOT NULL,
        status TEXT NOT NULL,
        step_index INTEGER NOT NULL,
        steps JSONB NOT NULL,
        hold JSONB NOT NULL,
        thresholds JSONB NOT NULL,
        started_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        step_started_at BIGINT NOT NULL,
        created_by TEXT NOT NULL
      );
      CREATE UNIQUE INDEX rollouts_one_running ON rollouts (pipeline) WHERE status = 'running';
      CREATE INDEX rollouts_started ON rollouts (started_at DESC);
      CREATE TABLE rollout_log (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rollout_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        event TEXT NOT NULL,
        message TEXT NOT NULL,
        numbers JSONB NOT NULL
      );
      CREATE INDEX rollout_log_rollout ON rollout_log (rollout_id, seq);
      CREATE TABLE rollout_samples (
        rollout_id TEXT NOT NULL,
        side TEXT NOT NULL,
        step INTEGER NOT NULL,
        at BIGINT NOT NULL,
        latency_ms DOUBLE PRECISION NOT NULL,
        error INTEGER NOT NULL,
        blocked INTEGER NOT NULL
      );
      CREATE INDEX rollout_samples_side ON rollout_samples (rollout_id, side, step);
      CREATE TABLE rollout_scores (
        rollout_id TEXT NOT NULL,
        side TEXT NOT NULL,
        metric TEXT NOT NULL,
        value DOUBLE PRECISION NOT NULL,
        at BIGINT NOT NULL
      );
      CREATE INDEX rollout_scores_side ON rollout_scores (rollout_id, side, metric);
      CREATE TABLE rollout_shadows (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        rollout_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        body JSONB NOT NULL
      );
      CREATE INDEX rollout_shadows_rollout ON rollout_shadows (rollout_id, seq DESC);
    `,
  },
];

export function migrateRollouts(pool: PgPool): Promise<number[]> {
  return applyMigrations(pool, ROLLOUTS_PG_MODULE, ROLLOUTS_PG_MIGRATIONS);
}
