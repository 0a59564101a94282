// Upstream failure mapping shared by the HTTP providers: a non-2xx response
// or a transport error becomes a StratumError whose kind, retryability and
// Retry-After the router acts on.
import { StratumError, parseRetryAfter } from "../../core/errors.js";

type Headers = Record<string, string | string[] | undefined>;

const MAX_MESSAGE = 500;
/** Error bodies are read up to this many bytes; the rest is discarded. */
export const MAX_ERROR_BODY = 64 * 1024;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** OpenAI's reset format: "1s", "6m0s", "20ms", "1h2m3.5s". */
function parseDurationMs(v: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = 0;
  for (const m of v.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : m[2] === "m" ? n * 60_000 : n * 3_600_000;
    matched += m[0].length;
  }
  return matched > 0 && matched === v.trim().length ? Math.round(total) : undefined;
}

/**
 * Server-suggested wait: retry-after-ms, then Retry-After, then the reset of
 * an exhausted x-ratelimit bucket (the soonest reset if none says which).
 */
export function retryAfterFromHeaders(headers: Headers, now = Date.now()): number | undefined {
  const raw = header(headers, "retry-after-ms");
  const ms = raw ? Number(raw) : NaN;
  if (Number.isFinite(ms) && ms >= 0) return Math.round(ms);
  const ra = parseRetryAfter(header(headers, "retry-after"), now);
  if (ra !== undefined) return ra;
  let exhausted: number | undefined;
  let soonest: number | undefined;
  for (const bucket of ["requests", "tokens"]) {
    const reset = header(headers, `x-ratelimit-reset-${bucket}`);
    const v = reset === undefined ? undefined : parseDurationMs(reset);
    if (v === undefined) continue;
    soonest = soonest === undefined ? v : Math.min(soonest, v);
    if (header(headers, `x-ratelimit-remaining-${bucket}`) === "0") exhausted = Math.max(exhausted ?? 0, v);
  }
  return exhausted ?? soonest;
}

/**
 * The upstream's own error message and code from an OpenAI-shaped
 * ({error:{message,code}}), Anthropic-shaped ({type:"error",error:{type,message}})
 * or ad-hoc ({error:"..."} / {message:"..."} / {detail:"..."}) body; raw text otherwise.
 */
export function extractUpstreamMessage(bodyText: string): { message: string; code?: string } {
  let message = bodyText.trim();
  let code: string | undefined;
  try {
    const j = JSON.parse(bodyText) as Record<string, unknown>;
    const err = j?.error;
    if (err && typeof err === "object") {
      const e = err as Record<string, unknown>;
      if (typeof e.message === "string") message = e.message;
      if (typeof e.code === "string") code = e.code;
      else if (typeof e.type === "string") code = e.type;
    } else if (typeof err === "string") message = err;
    else if (typeof j?.message === "string") message = j.message;
    else if (typeof j?.detail === "string") message = j.detail;
  } catch {
    // not JSON: keep the text
  }
  if (message.length > MAX_MESSAGE) message = message.slice(0, MAX_MESSAGE) + "…";
  return code === undefined ? { message } : { message, code };
}

/** Map a non-2xx upstream response. */
export function upstreamHttpError(status: number, headers: Headers, bodyText: string, deployment?: string): StratumError {
  const { message, code } = extractUpstreamMessage(bodyText);
  const who = deployment ? `upstream ${deployment}` : "upstream";
  const text = `${who} returned ${status}${message ? `: ${message}` : ""}`;
  const retryAfterMs = retryAfterFromHeaders(headers);
  if (status === 429) {
    return new StratumError("UpstreamRateLimited", text, { upstreamStatus: status, retryAfterMs, code });
  }
  // UpstreamError's retryability follows the status (5xx/408/409 retryable).
  return new StratumError("UpstreamError", text, { upstreamStatus: status, retryAfterMs, code });
}

const TIMEOUT_CODES = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
]);
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_DESTROYED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);
const PROTOCOL_CODES = new Set(["UND_ERR_RES_CONTENT_LENGTH_MISMATCH", "UND_ERR_HEADERS_OVERFLOW", "UND_ERR_INFO"]);

function codeOf(err: unknown): string | undefined {
  if (!err || typeof err !== "object") return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string") return code;
  // Happy-eyeballs connects fail with an AggregateError of per-address errors.
  if (err instanceof AggregateError) return codeOf(err.errors[0]);
  return undefined;
}

/**
 * Map a transport failure (undici or socket error, or an abort) to a
 * StratumError, keeping the original as `cause`. An abort whose reason is a
 * StratumError (e.g. the router's first-token timeout) is passed through.
 */
export function networkError(err: unknown, deployment?: string): StratumError {
  if (err instanceof StratumError) return err;
  const who = deployment ? `upstream ${deployment}` : "upstream";
  const name = err instanceof Error || err instanceof DOMException ? err.name : "";
  const msg = err instanceof Error || err instanceof DOMException ? err.message : String(err);
  const code = codeOf(err);
  if (name === "TimeoutError" || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new StratumError("UpstreamTimeout", `${who} timed out (${code ?? name}): ${msg}`, { cause: err });
  }
  if (name === "AbortError" || code === "UND_ERR_ABORTED" || code === "ABORT_ERR") {
    // Not a timeout we know of: the caller went away. Retrying is pointless.
    return new StratumError("UpstreamTimeout", `${who} request aborted`, { cause: err, retryable: false, code: "aborted" });
  }
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new StratumError("UpstreamUnreachable", `${who} unreachable (${code}): ${msg}`, { cause: err });
  }
  if (code !== undefined && (PROTOCOL_CODES.has(code) || code.startsWith("HPE_"))) {
    return new StratumError("UpstreamProtocol", `${who} sent a malformed response (${code}): ${msg}`, { cause: err });
  }
  if (code !== undefined && (code.startsWith("UND_ERR") || /^E[A-Z]+$/.test(code))) {
    return new StratumError("UpstreamUnreachable", `${who} failed (${code}): ${msg}`, { cause: err });
  }
  return new StratumError("Internal", `${who} call failed: ${msg}`, { cause: err });
}
