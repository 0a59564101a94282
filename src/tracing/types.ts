// The trace store's data model and interface. Spans are stored flat; each
// trace also has one summary row (what the list shows and filters on), built
// from its spans' attributes and patched later by feedback and online-eval
// scores. Times are ms since epoch.

export type SpanStatus = "ok" | "error" | "unset";

export interface SpanEventRecord {
  name: string;
  time_ms: number;
  attributes: Record<string, unknown>;
}

/** One finished span as stored. */
export interface StoredSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startMs: number;
  endMs: number;
  status: SpanStatus;
  statusMessage?: string;
  attributes: Record<string, unknown>;
  events: SpanEventRecord[];
}

/**
 * What one span tells about its trace. Every field is optional: a child span
 * may name the pipeline, the root span names everything else. The store merges
 * patches (a present value wins; `startedAt` keeps the earliest).
 */
export interface TraceSummaryPatch {
  traceId: string;
  startedAt: number;
  /** Only the root span sets these. */
  root?: {
    name: string;
    durationMs: number;
    status: "ok" | "error";
  };
  tenant?: string;
  model?: string;
  pipeline?: string;
  pipelineVersion?: number;
  sessionId?: string;
  user?: string;
  httpStatus?: number;
  tokensIn?: number;
  tokensOut?: number;
  costUsd?: number;
}

export interface TraceFeedback {
  id: string;
  traceId: string;
  tenant: string;
  score: number;
  comment?: string;
  createdAt: number;
}

export interface TraceScore {
  traceId: string;
  metric: string;
  value: number;
  at: number;
}

export interface TraceSummary {
  traceId: string;
  name: string;
  startedAt: number;
  durationMs: number;
  status: "ok" | "error";
  tenant: string;
  model: string;
  pipeline?: string;
  pipelineVersion?: number;
  sessionId?: string;
  user?: string;
  httpStatus?: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
  spanCount: number;
  /** The latest feedback on the trace. */
  feedback?: { score: number; comment?: string };
  /** Online-eval scores by metric. */
  scores?: Record<string, number>;
}

export interface TraceQuery {
  /** Only this tenant's traces (always set by the API). */
  tenant?: string;
  since?: number;
  until?: number;
  model?: string;
  status?: "ok" | "error";
  sessionId?: string;
  pipeline?: string;
  limit: number;
  /** Cursor: traces strictly older than this (from `nextBefore`). */
  before?: { startedAt: number; traceId: string };
}

export interface TracePage {
  traces: TraceSummary[];
  /** Set when more traces match: pass it back as `before`. */
  nextBefore?: { startedAt: number; traceId: string };
}

/** One batch written in one transaction. */
export interface TraceBatch {
  spans: StoredSpan[];
  summaries: TraceSummaryPatch[];
}

export interface TraceStore {
  write(batch: TraceBatch): Promise<void>;
  /** Newest first. Traces whose root span has not been stored yet are left out. */
  list(q: TraceQuery): Promise<TracePage>;
  /** The summary of one trace, scoped to a tenant when given (undefined when absent or foreign). */
  get(traceId: string, tenant?: string): Promise<TraceSummary | undefined>;
  /** The trace's spans by start time. */
  spans(traceId: string): Promise<StoredSpan[]>;
  addFeedback(f: TraceFeedback): Promise<void>;
  listFeedback(traceId: string): Promise<TraceFeedback[]>;
  addScores(scores: TraceScore[]): Promise<void>;
  /** Deletes traces (and their spans, feedback, scores) that started before `cutoffMs`; returns how many traces went. */
  deleteOlderThan(cutoffMs: number): Promise<number>;
}
