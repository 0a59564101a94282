// Trace and span ids. Trace ids start with the epoch second (8 hex digits,
// as AWS X-Ray's do) followed by 96 random bits: the trace store's indexes
// keyed by trace id then grow at their right edge instead of touching a
// random page per insert, and the ids still never collide in practice.
// Random bytes come from the CSPRNG a pool at a time.
import { randomFillSync } from "node:crypto";

const POOL_BYTES = 4096;
const pool = Buffer.alloc(POOL_BYTES);
let at = POOL_BYTES;

function randomHex(bytes: number): string {
  if (at + bytes > POOL_BYTES) {
    randomFillSync(pool);
    at = 0;
  }
  const hex = pool.toString("hex", at, at + bytes);
  at += bytes;
  return hex;
}

/** 32 hex digits: the epoch second, then 96 random bits. */
export function newTraceId(now = Date.now()): string {
  return Math.floor(now / 1000).toString(16).padStart(8, "0").slice(-8) + randomHex(12);
}

/** 16 hex digits, never all zeros (an invalid span id). */
export function newSpanId(): string {
  for (;;) {
    const id = randomHex(8);
    if (id !== "0000000000000000") return id;
  }
}
