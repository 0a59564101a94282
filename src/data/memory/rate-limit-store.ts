import type { AdmitResult, LimitCheck, RateLimitStore, WindowResult } from "../types.js";

interface Window {
  start: number;
  current: number;
  previous: number;
}

/**
 * Sliding-window counters (the weighted two-window approximation used by
 * Cloudflare and Redis-cell-style limiters): O(1) memory per key, no bursts
 * of 2x at window edges. Single process; the Redis store shares them.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, Window>();
  private readonly inFlight = new Map<string, number>();
  private lastSweep = Date.now();

  private window(key: string, windowMs: number, now: number): Window {
    let w = this.windows.get(key);
    if (!w) {
      w = { start: now - (now % windowMs), current: 0, previous: 0 };
      this.windows.set(key, w);
    }
    const elapsed = now - w.start;
    if (elapsed >= 2 * windowMs) {
      w.previous = 0;
      w.current = 0;
      w.start = now - (now % windowMs);
    } else if (elapsed >= windowMs) {
      w.previous = w.current;
      w.current = 0;
      w.start += windowMs;
    }
    this.sweep(now, windowMs);
    return w;
  }

  private used(w: Window, windowMs: number, now: number): number {
    const weight = 1 - (now - w.start) / windowMs;
    return w.current + w.previous * weight;
  }

  async admit(checks: readonly LimitCheck[]): Promise<AdmitResult> {
    const now = Date.now();
    const results = checks.map((c) => (c.kind === "window" ? this.judgeWindow(c.key, c.amount, c.limit, c.windowMs, now) : this.judgeSlot(c.key, c.limit)));
    const admitted = results.every((r) => r.allowed);
    if (admitted) {
      for (const c of checks) {
        if (c.kind === "window") this.window(c.key, c.windowMs, now).current += c.amount;
        else this.inFlight.set(c.key, (this.inFlight.get(c.key) ?? 0) + 1);
      }
    }
    return { admitted, results };
  }

  /** Whether `amount` fits in the window now (nothing is counted). */
  private judgeWindow(key: string, amount: number, limit: number, windowMs: number, now: number): WindowResult {
    const w = this.window(key, windowMs, now);
    const used = this.used(w, windowMs, now);
    if (used + amount > limit && !(amount > limit && used === 0)) {
      // Time until enough of the previous window has slid out, or the window rolls.
      const need = used + amount - limit;
      const perMs = w.previous / windowMs;
      const untilRoll = w.start + windowMs - now;
      const resetMs = perMs > 0 ? Math.min(untilRoll, Math.ceil(need / perMs)) : untilRoll;
      return { allowed: false, limit, remaining: Math.max(0, Math.floor(limit - used)), resetMs: Math.max(1, resetMs) };
    }
    return { allowed: true, limit, remaining: Math.max(0, Math.floor(limit - used - amount)), resetMs: w.start + windowMs - now };
  }

  private judgeSlot(key: string, limit: number): WindowResult {
    const held = this.inFlight.get(key) ?? 0;
    const allowed = held < limit;
    return { allowed, limit, remaining: Math.max(0, limit - held - (allowed ? 1 : 0)), resetMs: 0 };
  }

  async add(key: string, amount: number, windowMs: number): Promise<void> {
    // Negative amounts refund or correct earlier counts; a window never goes below zero.
    const w = this.window(key, windowMs, Date.now());
    w.current = Math.max(0, w.current + amount);
  }

  async release(key: string): Promise<void> {
    const n = (this.inFlight.get(key) ?? 0) - 1;
    if (n <= 0) this.inFlight.delete(key);
    else this.inFlight.set(key, n);
  }

  /** Drop idle windows so memory stays bounded by active keys. */
  private sweep(now: number, windowMs: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [k, w] of this.windows) if (now - w.start >= 2 * windowMs) this.windows.delete(k);
  }
}
