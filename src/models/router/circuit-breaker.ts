// Per-deployment circuit breaker: closed → open after N consecutive failures or
// a failure rate over a rolling window; open → half-open after `openMs`;
// half-open lets `halfOpenMaxCalls` trial calls through, closing on success
// and re-opening on any failure.
import type { CircuitBreakerConfig } from "../../config/schema.js";

export type CircuitState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  private state: CircuitState = "closed";
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;
  // Rolling window of outcomes as [timestamp, failed] pairs, pruned on use.
  private outcomes: Array<[number, boolean]> = [];

  constructor(
    private readonly cfg: CircuitBreakerConfig,
    private readonly onStateChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

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
    this.outcomes.push([now, failed]);
    const horizon = now - this.cfg.windowMs;
    let drop = 0;
    while (drop < this.outcomes.length && this.outcomes[drop]![0] < horizon) drop++;
    // Bound memory even within a window under very high rates.
    if (this.outcomes.length - drop > 10_000) drop = this.outcomes.length - 10_000;
    if (drop) this.outcomes = this.outcomes.slice(drop);
  }

  private failureRateTripped(): boolean {
    if (this.outcomes.length < this.cfg.minimumCalls) return false;
    let failed = 0;
    for (const [, f] of this.outcomes) if (f) failed++;
    return failed / this.outcomes.length >= this.cfg.failureRateThreshold;
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
      this.outcomes = [];
    }
    this.onStateChange(to);
  }
}
