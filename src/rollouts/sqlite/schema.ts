// Rollout tables in the SQLite file, applied idempotently when the store is built.
import type { SqliteDb } from "../../data/index.js";

export const ROLLOUT_SQLITE_SCHEMA = `
  CREATE TABLE IF NOT EXISTS rollouts (
    id TEXT PRIMARY KEY,
    pipeline TEXT NOT NULL,
    alias TEXT NOT NULL,
    strategy TEXT NOT NULL,
    from_version INTEGER NOT NULL,
    to_version INTEGER NOT NULL,
    status TEXT NOT NULL,
    step_index INTEGER NOT NULL,
    steps TEXT NOT NULL,
    hold TEXT NOT NULL,
    thresholds TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    step_started_at INTEGER NOT NULL,
    created_by TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS rollouts_one_running ON rollouts (pipeline) WHERE status = 'running';
  CREATE INDEX IF NOT EXISTS rollouts_started ON rollouts (started_at DESC);
  CREATE TABLE IF NOT EXISTS rollout_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    event TEXT NOT NULL,
    message TEXT NOT NULL,
    numbers TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rollout_log_rollout ON rollout_log (rollout_id, seq);
  CREATE TABLE IF NOT EXISTS rollout_samples (
    rollout_id TEXT NOT NULL,
    side TEXT NOT NULL,
    step INTEGER NOT NULL,
    at INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    error INTEGER NOT NULL,
    blocked INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rollout_samples_side ON rollout_samples (rollout_id, side, step);
  CREATE TABLE IF NOT EXISTS rollout_scores (
    rollout_id TEXT NOT NULL,
    side TEXT NOT NULL,
    metric TEXT NOT NULL,
    value REAL NOT NULL,
    at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rollout_scores_side ON rollout_scores (rollout_id, side, metric);
  CREATE TABLE IF NOT EXISTS rollout_shadows (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    body TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS rollout_shadows_rollout ON rollout_shadows (rollout_id, seq DESC);
`;

export function applyRolloutSchema(db: SqliteDb): void {
  db.exec(ROLLOUT_SQLITE_SCHEMA);
}
