// Asynchronous work (ingestion jobs now; online-eval scoring and shadow
// comparisons later) behind one small queue contract. Delivery is
// at-least-once: a job whose consumer dies (or whose handler fails) is
// delivered again after the claim idle timeout, until maxDeliveries, then it
// goes to the dead-letter list with its last error. Handlers must be idempotent.

export type JobState = "queued" | "running" | "done" | "failed";

export interface Job<P = unknown> {
  id: string;
  type: string;
  payload: P;
  /** 1 on the first delivery. */
  attempt: number;
  enqueuedAt: number;
}

export interface JobStatus {
  id: string;
  type: string;
  state: JobState;
  /** Deliveries so far. */
  attempts: number;
  /** The handler's return value, when done. */
  result?: unknown;
  /** The last error, when failed (or when the last attempt failed and a retry is pending). */
  error?: string;
  enqueuedAt: number;
  updatedAt: number;
}

export interface DeadLetter {
  id: string;
  type: string;
  payload: unknown;
  error: string;
  attempts: number;
  failedAt: number;
}

/**
 * A job handler. The signal aborts when the consumer is stopped; a handler
 * that then throws is not counted as failed (the job is delivered again).
 * The return value (JSON-serialisable) is kept in the job's status.
 */
export type JobHandler<P = unknown, R = unknown> = (job: Job<P>, signal: AbortSignal) => Promise<R>;

export interface ConsumeOptions {
  /** Handlers running at once in this consumer (default 1). */
  concurrency?: number;
  /** Stop taking jobs when aborted; `consume` resolves once in-flight handlers finish (or drainTimeoutMs passes). */
  signal?: AbortSignal;
  /** On stop, how long to wait for in-flight handlers (default: until they finish). Unfinished jobs are redelivered later. */
  drainTimeoutMs?: number;
  /** A job delivered but not finished (nor kept alive) for this long is claimed by another consumer. Defaults to the queue's. */
  claimIdleMs?: number;
  /** Deliveries before a job is dead-lettered. Defaults to the queue's. */
  maxDeliveries?: number;
}

export interface JobQueue {
  /** Queue a job; returns its id. */
  enqueue<P>(type: string, payload: P): Promise<string>;
  /** Process jobs of one type until `opts.signal` aborts. */
  consume<P, R>(type: string, handler: JobHandler<P, R>, opts?: ConsumeOptions): Promise<void>;
  /** The status of a job (undefined when unknown or expired). */
  getStatus(id: string): Promise<JobStatus | undefined>;
  /** Most recent dead-lettered jobs of a type, newest last. */
  deadLetters(type: string, limit?: number): Promise<DeadLetter[]>;
}

export interface JobQueueOptions {
  /** Default claim idle timeout (default 60 000 ms). Running handlers are kept alive every claimIdleMs/3. */
  claimIdleMs?: number;
  /** Default deliveries before dead-lettering (default 5). */
  maxDeliveries?: number;
  /** How long a job's status is kept after its last change (default 7 days). */
  statusTtlMs?: number;
}
