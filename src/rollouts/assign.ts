// Which side of a canary serves a request: a stable hash of (rollout, tenant,
// user or session) into 0..99.99, so one user stays on one side and raising
// the percentage only moves baseline users over, never back.
import { createHash } from "node:crypto";
import type { Side } from "./types.js";

export function bucketOf(rolloutId: string, stickyKey: string): number {
  const h = createHash("sha256").update(`${rolloutId}\n${stickyKey}`).digest();
  return (h.readUInt32BE(0) % 10_000) / 100;
}

export function assignSide(rolloutId: string, stickyKey: string, percent: number): Side {
  return bucketOf(rolloutId, stickyKey) < percent ? "candidate" : "baseline";
}
