// One-check admissions, for tests that exercise a RateLimitStore one limit at a time.
import type { RateLimitStore, WindowResult } from "../data/types.js";

/** Count `amount` against one window; the window's result. */
export async function consumeOne(s: RateLimitStore, key: string, amount: number, limit: number, windowMs: number): Promise<WindowResult> {
  const { results } = await s.admit([{ kind: "window", key, amount, limit, windowMs }]);
  return results[0]!;
}

/** Take one concurrency slot; whether it was free. */
export async function takeSlot(s: RateLimitStore, key: string, limit: number): Promise<boolean> {
  return (await s.admit([{ kind: "slot", key, limit }])).admitted;
}
