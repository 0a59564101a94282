// Per-deployment circuit breaker: closed → open after N consecutive failures or
// a failure rate over a rolling window; open → half-open after `openMs`;
// half-open lets `halfOpenMaxCalls` trial calls through, closing on success
// and re-opening on any failure.
import type { CircuitBreakerConfig } from "../../config/schema.js";

export type CircuitState = "closed" | "open" | "half-open";

const BUCKETS = 10;

export class CircuitBreaker {
  private state: CircuitState = "closed";
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;
  // Rolling window as a ring of time buckets: O(1) per call and O(buckets) memory at any rate.
  private readonly buckets: Array<{ start: number; calls: number; failures: number }>;
  private readonly bucketMs: number;

  constructor(
    private readonly cfg: CircuitBreakerConfig,
    private readonly onStateChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, Math.ceil(cfg.windowMs / BUCKETS));
    this.buckets = Array.from({ length: BUCKETS }, () => ({ start: -Infinity, calls: 0, failures: 0 }));
  }

  get current(): CircuitState {
    if (this.state === "open" && this.now() - this.openedAt >= this.cfg.openMs) this.transition("half-open");
    return this.state;
  }

  /** Whether a call may go through now; reserves a trial slot when half-open. */
  tryAcquire(): boolean {
    const s = this.current;
    if (s === "closed") return true;
    if (s === "open") return false;
    if (this.trialsInFlight >= this.cfg.halfOpenMaxCalls) return false;
    this.trialsInFlight++;
    return true;
  }

  /** Milliseconds until an open circuit lets a trial through. */
  retryInMs(): number {
    return this.state === "open" ? Math.max(0, this.openedAt + this.cfg.openMs - this.now()) : 0;
  }

  onSuccess(): void {
    if (this.state === "half-open") {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      if (++this.trialSuccesses >= this.cfg.halfOpenMaxCalls) this.transition("closed");
      return;
    }
    this.consecutiveFailures = 0;
    this.record(false);
  }

  onFailure(): void {
    if (this.state === "half-open") {
      this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
      this.transition("open");
      return;
    }
    if (this.state === "open") return;
    this.consecutiveFailures++;
    this.record(true);
    if (this.consecutiveFailures >= this.cfg.failureThreshold || this.failureRateTripped()) this.transition("open");
  }

  /** A call that was let through but ended without a verdict (e.g. the client left). */
  onCancel(): void {
    if (this.state === "half-open") this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
  }

  private record(failed: boolean): void {
    const now = this.now();
    const start = now - (now % this.bucketMs);
    const b = this.buckets[Math.floor(now / this.bucketMs) % BUCKETS]!;
    if (b.start !== start) {
      b.start = start;
      b.calls = 0;
      b.failures = 0;
    }
    b.calls++;
    if (failed) b.failures++;
  }

  private failureRateTripped(): boolean {
    const horizon = this.now() - this.cfg.windowMs;
    let calls = 0;
    let failures = 0;
    for (const b of this.buckets) {
      if (b.start <= horizon) continue;
      calls += b.calls;
      failures += b.failures;
    }
    return calls >= this.cfg.minimumCalls && failures / calls >= this.cfg.failureRateThreshold;
  }

  private transition(to: CircuitState): void {
    if (this.state === to) return;
    this.state = to;
    if (to === "open") this.openedAt = this.now();
    if (to === "half-open") {
      this.trialsInFlight = 0;
      this.trialSuccesses = 0;
    }
    if (to === "closed") {
      this.consecutiveFailures = 0;
      for (const b of this.buckets) b.start = -Infinity;
    }
    this.onStateChange(to);
  }
}
