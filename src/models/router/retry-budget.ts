// A retry budget per deployment (Finagle's form): over a rolling window,
// retries may be at most `percent` of the requests the deployment got, plus
// `minPerSecond` retries a second whatever the load (so a quiet deployment
// still retries). When an upstream fails wholesale, retrying every request
// would multiply its load by maxAttempts just as it can least take it (a
// retry storm); with the budget the extra load stays within `percent`, and
// the requests over it move on to their fallback at once.
//
// Rate, not concurrency: Envoy's form (retries in flight at most 20 % of the
// requests in flight, min 3) refused ~20 % of the retries in the chaos soak
// (5 % random upstream faults, 50 connections), where failures come in
// bursts and a request counts as in flight only until its first byte.

import type { RetryConfig } from "../../config/schema.js";
import { RollingCount } from "./rolling-count.js";

export class RetryBudget {
  private readonly requests: RollingCount;
  private readonly retries: RollingCount;
  /** Retries per window whatever the load, and per request on top. */
  private readonly floor: number;
  private readonly share: number;

  constructor(config: RetryConfig["budget"], now: () => number = Date.now) {
    this.requests = new RollingCount(config.windowMs, now);
    this.retries = new RollingCount(config.windowMs, now);
    this.floor = (config.minPerSecond * config.windowMs) / 1000;
    this.share = config.percent / 100;
  }

  /** A request makes its first attempt at the deployment. */
  request(): void {
    this.requests.add();
  }

  /** Whether a failed attempt may be retried; a yes counts as a retry. */
  tryRetry(): boolean {
    const allowed = this.floor + this.share * this.requests.total();
    if (this.retries.total() + 1 > allowed) return false;
    this.retries.add();
    return true;
  }
}
