// Drift monitoring types: the signals, what the taps report, the alert, the
// report the API returns, and the small interfaces the monitor depends on
// (persistence, alert sinks, the re-evaluation trigger).
import type { KsResult, Summary } from "./stats.js";
import { LANGUAGES } from "./language.js";

export type SignalKind = "numeric" | "categorical";

export interface SignalSpec {
  kind: SignalKind;
  /** Categorical signals: every value the signal can take (bounded). */
  categories?: readonly string[];
  /** Categorical signals: the categories whose share is reported as the summary's mean (e.g. the abstention rate). */
  positive?: readonly string[];
}

/** Every signal the monitor keeps, per model (requests) or per pipeline (turns). */
export const SIGNALS = {
  // From ChatFlow.account, per requested model or pipeline.
  latency_ms: { kind: "numeric" },
  cost_usd: { kind: "numeric" },
  output_tokens: { kind: "numeric" },
  status: { kind: "categorical", categories: ["2xx", "4xx", "5xx"], positive: ["4xx", "5xx"] },
  // From the RAG pipeline, per pipeline.
  query_chars: { kind: "numeric" },
  language: { kind: "categorical", categories: LANGUAGES },
  retrieval_confidence: { kind: "numeric" },
  abstained: { kind: "categorical", categories: ["no", "yes"], positive: ["yes"] },
  grounding: { kind: "numeric" },
} as const satisfies Record<string, SignalSpec>;

export type SignalName = keyof typeof SIGNALS;

/** One finished request, as ChatFlow.account saw it. */
export interface RequestSignals {
  /** The requested model or pipeline name. */
  model: string;
  latencyMs: number;
  costUsd: number;
  status: number;
  completionTokens: number;
}

/** One pipeline turn, as the RAG pipeline planned and answered it. */
export interface TurnSignals {
  pipeline: string;
  /** The user's question (the monitor keeps only its length and language). */
  question: string;
  confidence: number;
  abstained: boolean;
  /** Grounding score of the answer, when the pipeline's grounding check ran. */
  grounding?: number;
}

export interface DriftThresholds {
  psi: number;
  ks_p_value: number;
  min_samples: number;
  /** "both": numeric signals alert when PSI and KS agree; "either": when one does. Categorical signals use PSI. */
  require: "both" | "either";
}

export interface SignalSummary extends Summary {
  /** Categorical signals: share of each category seen. */
  shares?: Record<string, number>;
}

export interface SignalReport {
  /** `<signal>:<model or pipeline>`, e.g. `query_chars:assistant`. */
  name: string;
  signal: SignalName;
  scope: string;
  kind: SignalKind;
  /** collecting_reference: the first window is filling; collecting: fewer than min_samples in the current window. */
  status: "collecting_reference" | "collecting" | "stable" | "drift";
  reference: SignalSummary;
  current: SignalSummary;
  psi: number | null;
  /** Null for categorical signals (KS needs an ordering). */
  ks: KsResult | null;
  /** The thresholds are crossed now. */
  alert: boolean;
  /** An alert fired and the signal has not returned within the thresholds since (no repeated alerts meanwhile). */
  alerting: boolean;
  thresholds: DriftThresholds;
  reference_origin: "first_window" | "pinned" | null;
  reference_at: number | null;
  /** Observations recorded since this process started. */
  observed: number;
}

export interface DriftReport {
  signals: SignalReport[];
  updated_at: number;
}

/** What an alert sink (log, webhook, re-evaluation) receives on a transition into drift. */
export interface DriftAlert {
  type: "drift.alert";
  signal: string;
  psi: number | null;
  ks: KsResult | null;
  reference_n: number;
  current_n: number;
  window_size: number;
  thresholds: DriftThresholds;
  at: number;
}

/** Where an alert goes besides the metrics and the log (e.g. a webhook). Must not throw. */
export interface AlertSink {
  send(alert: DriftAlert): Promise<void>;
}

/** Starts a re-evaluation in the background when a signal drifts. */
export interface ReevaluationTrigger {
  trigger(alert: DriftAlert): void;
  /** Resolves when no re-evaluation is running. */
  idle(): Promise<void>;
  /** True while observations of this model/pipeline must be ignored (the re-evaluation's own traffic would enter the windows). */
  pausesScope?(scope: string): boolean;
}

/** A persisted window: the reference (survives restarts) or the current window's samples and summary. */
export interface StoredWindow {
  signal: string;
  role: "reference" | "current";
  kind: SignalKind;
  /** Numeric samples, or categorical values as indices into `categories`. */
  values: number[];
  categories?: string[];
  summary: SignalSummary;
  origin?: "first_window" | "pinned";
  alerting?: boolean;
  updatedAt: number;
}

/** Persistence of the drift windows (SQLite and PostgreSQL implementations). */
export interface DriftStore {
  /** Insert or replace the window of (signal, role). */
  save(w: StoredWindow): Promise<void>;
  loadAll(): Promise<StoredWindow[]>;
}
