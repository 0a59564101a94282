// A count over a rolling time window, as a ring of time buckets: O(1) to add
// and O(buckets) to total, with constant memory at any rate. The circuit
// breaker counts calls and failures with it, the retry budget requests and
// retries.

const BUCKETS = 10;

export class RollingCount {
  private readonly starts = new Array<number>(BUCKETS).fill(-Infinity);
  private readonly counts = new Array<number>(BUCKETS).fill(0);
  private readonly bucketMs: number;

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / BUCKETS));
  }

  add(): void {
    const now = this.now();
    const start = now - (now % this.bucketMs);
    const i = Math.floor(now / this.bucketMs) % BUCKETS;
    if (this.starts[i] !== start) {
      this.starts[i] = start;
      this.counts[i] = 0;
    }
    this.counts[i]!++;
  }

  /** The count over the last `spanMs` (the whole window by default), to the bucket. */
  total(spanMs = this.windowMs): number {
    const horizon = this.now() - spanMs;
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) if (this.starts[i]! > horizon) sum += this.counts[i]!;
    return sum;
  }

  clear(): void {
    this.starts.fill(-Infinity);
  }
}
