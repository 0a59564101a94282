// One place that decides which PostgreSQL failures mean "storage is unavailable"
// (connection refused/reset/lost, timeouts, server shutting down or full): those
// become a retryable StratumError("Unavailable"); anything else (constraint
// violations, bad SQL) is rethrown as is.
import { StratumError } from "../../core/errors.js";

const NETWORK_CODES: ReadonlySet<string> = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EADDRNOTAVAIL",
]);

const SQLSTATES: ReadonlySet<string> = new Set([
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, recovery)
  "53300", // too_many_connections
  "57014", // query_canceled (statement_timeout)
  "55P03", // lock_not_available (lock_timeout)
  "25P03", // idle_in_transaction_session_timeout
]);

const MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /connection (?:timeout|timed out)/i,
  /not queryable/i,
  /server closed the connection/i,
];

/** True when `e` says the database could not be reached or did not answer in time. */
export function isPgUnavailable(e: unknown): boolean {
  if (!e || typeof e !== "object") return false;
  const err = e as { code?: unknown; message?: unknown; errors?: unknown };
  if (typeof err.code === "string") {
    if (NETWORK_CODES.has(err.code) || SQLSTATES.has(err.code) || err.code.startsWith("08")) return true;
  }
  // Node reports a failed multi-address connect (localhost -> ::1, 127.0.0.1) as an AggregateError.
  if (Array.isArray(err.errors) && err.errors.some((x) => isPgUnavailable(x))) return true;
  return typeof err.message === "string" && MESSAGES.some((re) => re.test(err.message as string));
}

/** Storage-unavailable failures become StratumError("Unavailable", retryable); anything else is returned unchanged. */
export function toStorageError(e: unknown): unknown {
  if (e instanceof StratumError || !isPgUnavailable(e)) return e;
  const detail = e instanceof Error ? e.message || (e as { code?: string }).code || e.name : String(e);
  return new StratumError("Unavailable", `storage unavailable: ${detail}`, {
    code: "storage_unavailable",
    retryable: true,
    cause: e,
  });
}
