// Ingestion failures are values with a specific code, so a report can say
// exactly what was wrong with each file and the gateway can map them to HTTP.
import { StratumError, type ErrorKind } from "../core/errors.js";

export type IngestErrorCode =
  | "unsupported_type"
  | "corrupt_file"
  | "empty_text"
  | "bad_encoding"
  | "too_large"
  | "blocked_url"
  | "fetch_failed"
  | "source_conflict"
  | "embedding_failed"
  | "not_found";

const KIND: Record<IngestErrorCode, ErrorKind> = {
  unsupported_type: "InvalidRequest",
  corrupt_file: "InvalidRequest",
  empty_text: "InvalidRequest",
  bad_encoding: "InvalidRequest",
  too_large: "PayloadTooLarge",
  blocked_url: "Forbidden",
  fetch_failed: "UpstreamError",
  source_conflict: "InvalidRequest",
  embedding_failed: "UpstreamError",
  not_found: "NotFound",
};

export class IngestError extends StratumError {
  readonly reason: IngestErrorCode;
  constructor(reason: IngestErrorCode, message: string, cause?: unknown) {
    super(KIND[reason], message, { code: reason, retryable: reason === "fetch_failed", cause });
    this.reason = reason;
  }
}

export function isIngestError(e: unknown): e is IngestError {
  return e instanceof IngestError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
