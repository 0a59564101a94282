// Per-deployment circuit breaker: closed → open after N consecutive failures
// while failures dominate the last few seconds, or on a failure rate over a
// rolling window; open → half-open after `openMs`;
// half-open lets `halfOpenMaxCalls` trial calls through, closing on success
// and re-opening on any failure.
import type { CircuitBreakerConfig } from "../../config/schema.js";
import { RollingCount } from "./rolling-count.js";

export type CircuitState = "closed" | "open" | "half-open";

export class CircuitBreaker {
  private state: CircuitState = "closed";
  private consecutiveFailures = 0;
  private openedAt = 0;
  private trialsInFlight = 0;
  private trialSuccesses = 0;
  private readonly calls: RollingCount;
  private readonly failures: RollingCount;

  constructor(
    private readonly cfg: CircuitBreakerConfig,
    private readonly onStateChange: (state: CircuitState) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {
    this.calls = new RollingCount(cfg.windowMs, now);
    this.failures = new RollingCount(cfg.windowMs, now);
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
    if (this.streakTripped() || this.failureRateTripped()) this.transition("open");
  }

  /** A call that was let through but ended without a verdict (e.g. the client left). */
  onCancel(): void {
    if (this.state === "half-open") this.trialsInFlight = Math.max(0, this.trialsInFlight - 1);
  }

  private record(failed: boolean): void {
    this.calls.add();
    if (failed) this.failures.add();
  }

  /**
   * A streak opens the circuit only while at least `failureRateThreshold` of the calls in the last
   * fifth of the window (2 s by default) failed, or once it is `minimumCalls` long (a full sample,
   * all failed). Under load, fast failures cluster between slow successes (an error comes back in
   * milliseconds, an answer takes longer): with 5 % random faults at ~1.4k calls a second, 5 in a
   * row came every 30-60 s and opened the circuit for 30 s. A quiet deployment trips as before, a
   * busy one that fails outright after `minimumCalls` failures.
   */
  private streakTripped(): boolean {
    if (this.consecutiveFailures < this.cfg.failureThreshold) return false;
    if (this.consecutiveFailures >= this.cfg.minimumCalls) return true;
    const recent = this.cfg.windowMs / 5;
    return this.failures.total(recent) >= this.cfg.failureRateThreshold * this.calls.total(recent);
  }

  private failureRateTripped(): boolean {
    const calls = this.calls.total();
    return calls >= this.cfg.minimumCalls && this.failures.total() / calls >= this.cfg.failureRateThreshold;
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
      this.calls.clear();
      this.failures.clear();
    }
    this.onStateChange(to);
  }
}
