// Rollouts of a pipeline alias to a new version: blue-green (switch now,
// switch back instantly), canary (traffic steps by stable user hash, judged
// against the baseline) and shadow (mirrored traffic, compared off the
// response path). State and per-version stats live in a RolloutStore so every
// replica serves and judges the same rollout.

export type RolloutStrategy = "blue-green" | "canary" | "shadow";
export type RolloutStatus = "running" | "promoted" | "rolled_back" | "aborted" | "completed";
export type Side = "baseline" | "candidate";

/** How far the candidate may be from the baseline before a canary is rolled back. */
export interface Thresholds {
  /** candidate error rate − baseline error rate, at most. */
  maxErrorRateDelta: number;
  /** candidate p95 ≤ baseline p95 × ratio + slack. */
  maxP95Ratio: number;
  p95SlackMs: number;
  /** candidate guardrail-block rate − baseline's, at most. */
  maxBlockRateDelta: number;
  /** Per online-eval metric: candidate mean − baseline mean, at least (e.g. -0.05). */
  minEvalDelta: number;
  /** Requests each side needs before anything is decided. */
  minRequests: number;
}

export const DEFAULT_THRESHOLDS: Thresholds = {
  maxErrorRateDelta: 0.05,
  maxP95Ratio: 1.5,
  p95SlackMs: 250,
  maxBlockRateDelta: 0.05,
  minEvalDelta: -0.05,
  minRequests: 20,
};

export const DEFAULT_STEPS = [5, 25, 50, 100];

export interface Hold {
  /** Candidate requests in a step before it is judged. */
  requests?: number;
  /** Seconds a step lasts before it is judged (checked as requests arrive). */
  seconds?: number;
}

export interface VersionStats {
  requests: number;
  errors: number;
  error_rate: number;
  p95_ms: number;
  guardrail_blocks: number;
  block_rate: number;
  /** Mean online-eval score per metric. */
  eval: Record<string, number>;
}

export interface RolloutLogEntry {
  at: number;
  event: string;
  message: string;
  numbers: Record<string, unknown>;
}

export interface Rollout {
  id: string;
  pipeline: string;
  alias: string;
  strategy: RolloutStrategy;
  fromVersion: number;
  toVersion: number;
  status: RolloutStatus;
  stepIndex: number;
  steps: number[];
  hold: Hold;
  thresholds: Thresholds;
  startedAt: number;
  updatedAt: number;
  stepStartedAt: number;
  createdBy: string;
  log: RolloutLogEntry[];
}

export type NewRollout = Omit<Rollout, "log" | "updatedAt" | "stepStartedAt">;

/** One served request of a running rollout. */
export interface Sample {
  side: Side;
  step: number;
  at: number;
  latencyMs: number;
  error: boolean;
  blocked: boolean;
}

export interface ShadowComparison {
  at: number;
  requestId: string;
  baseline: { latencyMs: number; costUsd: number; text: string };
  candidate: { latencyMs: number; costUsd: number; text: string; error?: string };
  metrics: Record<string, number>;
}

export interface RolloutPatch {
  status?: RolloutStatus;
  stepIndex?: number;
  /** Set when the step changes. */
  stepStartedAt?: number;
}

export interface RolloutStore {
  /** Throws InvalidRequest (code rollout_in_progress) when the pipeline already has a running rollout. */
  create(r: NewRollout, first: RolloutLogEntry): Promise<Rollout>;
  get(id: string): Promise<Rollout | undefined>;
  list(filter?: { pipeline?: string; status?: RolloutStatus }): Promise<Rollout[]>;
  running(pipeline: string): Promise<Rollout | undefined>;
  /**
   * Compare-and-set: applies `patch` and appends `log` only when the rollout
   * is still in `expect` (status and step). Undefined when it was not.
   */
  update(id: string, expect: { status: RolloutStatus; stepIndex: number }, patch: RolloutPatch, log: RolloutLogEntry[]): Promise<Rollout | undefined>;
  appendLog(id: string, entry: RolloutLogEntry): Promise<void>;
  recordSample(id: string, s: Sample): Promise<void>;
  recordScore(id: string, side: Side, metric: string, value: number): Promise<void>;
  stats(id: string, side: Side): Promise<VersionStats>;
  /** Requests of one side within one step. */
  stepRequests(id: string, side: Side, step: number): Promise<number>;
  addShadow(id: string, c: ShadowComparison): Promise<void>;
  /** Newest first. */
  shadows(id: string, limit: number): Promise<ShadowComparison[]>;
}
