// A retry budget per deployment (Envoy's): retries in flight may be at most
// `percent` of the requests active on the deployment, and never fewer than
// `minConcurrent`. When an upstream degrades, every request retrying it would
// multiply its load by maxAttempts just as it can least take it (a retry
// storm); with the budget, most failures move on to the fallback at once and a
// lone request still gets its retries.

export interface RetryBudgetConfig {
  /** Retries in flight as a share of the deployment's active requests, 0-100. */
  percent: number;
  /** Retries in flight allowed whatever the share (so a quiet deployment still retries). */
  minConcurrent: number;
}

export class RetryBudget {
  private active = 0;
  private retrying = 0;

  constructor(private readonly config: RetryBudgetConfig) {}

  /** A request starts its attempts on the deployment. */
  enter(): void {
    this.active++;
  }

  /** A request is done with the deployment (answered, failed or moved on). */
  leave(): void {
    if (this.active > 0) this.active--;
  }

  /** Take a retry slot if the budget has one; give it back with `retryDone()` once the retried attempt settles. */
  tryRetry(): boolean {
    const allowed = Math.max(this.config.minConcurrent, Math.floor((this.config.percent * this.active) / 100));
    if (this.retrying >= allowed) return false;
    this.retrying++;
    return true;
  }

  retryDone(): void {
    if (this.retrying > 0) this.retrying--;
  }

  /** Requests active on the deployment and retries in flight (for tests and introspection). */
  get load(): { active: number; retrying: number } {
    return { active: this.active, retrying: this.retrying };
  }
}
