// Errors are values with a kind. Every layer throws StratumError; the gateway
// maps kinds to HTTP in exactly one place (gateway/http-errors.ts).

export type ErrorKind =
  | "InvalidRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "PayloadTooLarge"
  | "RateLimited"
  | "BudgetExceeded"
  | "UpstreamError" // upstream answered with a non-2xx status
  | "UpstreamRateLimited" // upstream 429
  | "UpstreamTimeout" // connect / first-token / total timeout
  | "UpstreamUnreachable" // connection refused/reset before a response
  | "UpstreamProtocol" // malformed upstream response or stream
  | "CircuitOpen"
  | "ConcurrencyLimited"
  | "AllRoutesFailed"
  | "Unavailable"
  | "GuardrailBlocked" // a guardrail refused the input or the output
  | "OutputInvalid" // the model's output failed validation (e.g. its JSON schema), after a retry
  | "Internal";

export interface AttemptFailure {
  deployment: string;
  kind: ErrorKind;
  status?: number;
  message: string;
}

export interface StratumErrorOptions {
  /** HTTP status of the upstream, for Upstream* kinds. */
  upstreamStatus?: number;
  /** Whether a retry of the same call may succeed. Defaults by kind. */
  retryable?: boolean;
  /** Server-suggested wait before retrying (Retry-After), in ms. */
  retryAfterMs?: number;
  /** The request field at fault, for InvalidRequest. */
  param?: string | null;
  /** A machine-readable code (OpenAI's `error.code`). */
  code?: string | null;
  /** Failed attempts behind an AllRoutesFailed error. */
  attempts?: AttemptFailure[];
  /** Response metadata the client needs with this error (e.g. x-ratelimit-* counters). */
  headers?: Record<string, string>;
  cause?: unknown;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorKind> = new Set<ErrorKind>([
  "UpstreamRateLimited",
  "UpstreamTimeout",
  "UpstreamUnreachable",
  "UpstreamProtocol",
  "CircuitOpen",
  "ConcurrencyLimited",
]);

export class StratumError extends Error {
  readonly kind: ErrorKind;
  readonly upstreamStatus?: number;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;
  readonly param: string | null;
  readonly code: string | null;
  readonly attempts?: AttemptFailure[];
  readonly headers?: Record<string, string>;

  constructor(kind: ErrorKind, message: string, opts: StratumErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = kind;
    this.kind = kind;
    this.upstreamStatus = opts.upstreamStatus;
    this.retryable =
      opts.retryable ??
      (RETRYABLE_BY_DEFAULT.has(kind) ||
        (kind === "UpstreamError" && opts.upstreamStatus !== undefined && isRetryableStatus(opts.upstreamStatus)));
    this.retryAfterMs = opts.retryAfterMs;
    this.param = opts.param ?? null;
    this.code = opts.code ?? null;
    this.attempts = opts.attempts;
    this.headers = opts.headers;
  }
}

/** The error a request's work ends with when its client went away (the gateway's signal aborts with it). */
export function clientClosed(): StratumError {
  return new StratumError("Unavailable", "client closed the request", { code: "client_closed" });
}

/** 408, 409, 429 and 5xx are worth retrying; other 4xx are the caller's fault. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function isStratumError(e: unknown): e is StratumError {
  return e instanceof StratumError;
}

/** Normalise anything thrown into a StratumError (unknown errors become Internal). */
export function toStratumError(e: unknown): StratumError {
  if (e instanceof StratumError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new StratumError("Internal", message, { cause: e });
}

/** Parse a Retry-After header (seconds or HTTP date) into ms. */
export function parseRetryAfter(value: string | string[] | undefined | null, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  const secs = Number(v);
  if (Number.isFinite(secs) && secs >= 0) return Math.round(secs * 1000);
  const date = Date.parse(v);
  if (Number.isFinite(date)) return Math.max(0, date - now);
  return undefined;
}
