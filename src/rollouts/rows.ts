// Row ⇄ Rollout mapping shared by the SQLite and PostgreSQL stores.
import type { Rollout, RolloutLogEntry, RolloutStatus, RolloutStrategy, VersionStats } from "./types.js";

export interface RolloutRow {
  id: string;
  pipeline: string;
  alias: string;
  strategy: string;
  from_version: number;
  to_version: number;
  status: string;
  step_index: number;
  steps: string | unknown;
  hold: string | unknown;
  thresholds: string | unknown;
  started_at: number | string;
  updated_at: number | string;
  step_started_at: number | string;
  created_by: string;
}

export interface LogRow {
  at: number | string;
  event: string;
  message: string;
  numbers: string | unknown;
}

/** SQLite stores JSON as text, PostgreSQL returns JSONB parsed. */
const json = <T>(v: unknown): T => (typeof v === "string" ? (JSON.parse(v) as T) : (v as T));

export function toRollout(r: RolloutRow, log: LogRow[]): Rollout {
  return {
    id: r.id,
    pipeline: r.pipeline,
    alias: r.alias,
    strategy: r.strategy as RolloutStrategy,
    fromVersion: Number(r.from_version),
    toVersion: Number(r.to_version),
    status: r.status as RolloutStatus,
    stepIndex: Number(r.step_index),
    steps: json(r.steps),
    hold: json(r.hold),
    thresholds: json(r.thresholds),
    startedAt: Number(r.started_at),
    updatedAt: Number(r.updated_at),
    stepStartedAt: Number(r.step_started_at),
    createdBy: r.created_by,
    log: log.map((l): RolloutLogEntry => ({ at: Number(l.at), event: l.event, message: l.message, numbers: json(l.numbers) })),
  };
}

/** Nearest-rank index of the 95th percentile among n ascending values. */
export const p95Offset = (n: number): number => Math.max(0, Math.ceil(0.95 * n) - 1);

export function toStats(n: number, errors: number, blocks: number, p95: number, evals: Array<{ metric: string; mean: number }>): VersionStats {
  return {
    requests: n,
    errors,
    error_rate: n ? errors / n : 0,
    p95_ms: Math.round(p95 * 10) / 10,
    guardrail_blocks: blocks,
    block_rate: n ? blocks / n : 0,
    eval: Object.fromEntries(evals.map((e) => [e.metric, Number(e.mean)])),
  };
}
