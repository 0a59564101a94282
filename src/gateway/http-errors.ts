// The one place where error kinds become HTTP statuses and OpenAI-shaped bodies.
import { StratumError, toStratumError, type ErrorKind } from "../core/errors.js";

export interface HttpError {
  status: number;
  headers: Record<string, string>;
  body: { error: { message: string; type: string; code: string | null; param: string | null; attempts?: unknown } };
}

const STATUS: Record<ErrorKind, number> = {
  InvalidRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  PayloadTooLarge: 413,
  RateLimited: 429,
  BudgetExceeded: 429,
  UpstreamError: 502,
  UpstreamRateLimited: 429,
  UpstreamTimeout: 504,
  UpstreamUnreachable: 502,
  UpstreamProtocol: 502,
  CircuitOpen: 503,
  ConcurrencyLimited: 503,
  AllRoutesFailed: 502,
  Unavailable: 503,
  GuardrailBlocked: 400,
  OutputInvalid: 502,
  Internal: 500,
};

const TYPE: Record<ErrorKind, string> = {
  InvalidRequest: "invalid_request_error",
  Unauthorized: "authentication_error",
  Forbidden: "permission_error",
  NotFound: "invalid_request_error",
  PayloadTooLarge: "invalid_request_error",
  RateLimited: "rate_limit_error",
  BudgetExceeded: "insufficient_quota",
  UpstreamError: "upstream_error",
  UpstreamRateLimited: "rate_limit_error",
  UpstreamTimeout: "timeout_error",
  UpstreamUnreachable: "upstream_error",
  UpstreamProtocol: "upstream_error",
  CircuitOpen: "service_unavailable",
  ConcurrencyLimited: "service_unavailable",
  AllRoutesFailed: "upstream_error",
  Unavailable: "service_unavailable",
  GuardrailBlocked: "invalid_request_error",
  OutputInvalid: "upstream_error",
  Internal: "server_error",
};

export function statusOf(err: StratumError): number {
  // An upstream's verdict on the request itself (4xx) is passed through as is.
  if ((err.kind === "UpstreamError" || err.kind === "AllRoutesFailed") && err.upstreamStatus && err.upstreamStatus >= 400 && err.upstreamStatus < 500) {
    return err.upstreamStatus;
  }
  if (err.kind === "AllRoutesFailed" && err.attempts?.length && err.attempts.every((a) => a.kind === "UpstreamTimeout")) return 504;
  return STATUS[err.kind];
}

export function toHttpError(e: unknown): HttpError {
  const err = toStratumError(e);
  const status = statusOf(err);
  const headers: Record<string, string> = { ...err.headers };
  if (err.retryAfterMs !== undefined && (status === 429 || status === 503)) headers["retry-after"] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
  // Internal errors never leak their message (it may carry internals); the log has it.
  const message = err.kind === "Internal" ? "The server had an error while processing your request." : err.message;
  return {
    status,
    headers,
    body: {
      error: {
        message,
        // An upstream's 4xx verdict on the request reads as the client's error.
        type: status >= 400 && status < 500 && err.kind === "UpstreamError" ? "invalid_request_error" : TYPE[err.kind],
        code: err.code ?? defaultCode(err.kind),
        param: err.param,
        ...(err.attempts ? { attempts: err.attempts } : {}),
      },
    },
  };
}

function defaultCode(kind: ErrorKind): string | null {
  switch (kind) {
    case "Unauthorized":
      return "invalid_api_key";
    case "RateLimited":
      return "rate_limit_exceeded";
    case "BudgetExceeded":
      return "budget_exceeded";
    case "PayloadTooLarge":
      return "request_too_large";
    default:
      return null;
  }
}

/** Fastify's own errors (body parsing, limits) as StratumErrors. */
export function fromFrameworkError(e: { code?: string; statusCode?: number; message: string }, bodyLimit: number): StratumError {
  switch (e.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new StratumError("PayloadTooLarge", `Request body exceeds the limit of ${bodyLimit} bytes`);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new StratumError("InvalidRequest", "Unsupported Content-Type: send application/json", { code: "unsupported_media_type" });
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new StratumError("InvalidRequest", "The request body is empty; expected a JSON object", { code: "invalid_json" });
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new StratumError("InvalidRequest", "Content-Length does not match the body", { code: "invalid_body" });
  }
  if (e.statusCode === 400 && (e instanceof SyntaxError || /JSON/i.test(e.message))) {
    return new StratumError("InvalidRequest", `We could not parse the JSON body of your request: ${e.message}`, { code: "invalid_json" });
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new StratumError("InvalidRequest", e.message);
  return toStratumError(e);
}
