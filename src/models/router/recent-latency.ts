// A deployment's recent time to first response (the first chunk of a stream,
// the whole answer otherwise): the median of its last successful attempts.
// A median, not an average: a cold first call (connection set-up, JIT) or one
// GC pause would otherwise hold a fast deployment's figure up for dozens of
// calls. Latency-aware routing divides each deployment's weight by it.

const WINDOW = 16;

export class RecentLatency {
  private readonly ring = new Float64Array(WINDOW);
  private readonly scratch = new Float64Array(WINDOW);
  private count = 0;
  private median: number | undefined;

  observe(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    this.ring[this.count % WINDOW] = ms;
    this.count++;
    const n = Math.min(this.count, WINDOW);
    const sorted = this.scratch.subarray(0, n);
    sorted.set(this.ring.subarray(0, n));
    sorted.sort();
    this.median = n % 2 ? sorted[n >> 1]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  }

  /** Milliseconds; undefined until the first success. */
  get value(): number | undefined {
    return this.median;
  }
}
