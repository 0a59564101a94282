// A fixed-size ring of (value, time) samples: the current window of a signal
// is the most recent `capacity` observations (optionally only those newer than
// a time horizon). Memory is allocated once and never grows with traffic.

export class SampleRing {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  /** Index of the oldest sample. */
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Time of the oldest sample (undefined when empty). */
  get oldestAt(): number | undefined {
    return this.count === 0 ? undefined : this.times[this.start];
  }

  push(value: number, at: number): void {
    const end = (this.start + this.count) % this.capacity;
    this.values[end] = value;
    this.times[end] = at;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** Drops samples older than `cutoff` (ms since epoch). */
  dropBefore(cutoff: number): void {
    while (this.count > 0 && this.times[this.start]! < cutoff) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }

  /** The samples, oldest first (a copy). */
  toArray(): number[] {
    const out = new Array<number>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.values[(this.start + i) % this.capacity]!;
    return out;
  }

  /** Replaces the content (oldest first); keeps the newest `capacity` when given more. */
  load(values: readonly number[], at: number): void {
    this.clear();
    for (const v of values.slice(-this.capacity)) this.push(v, at);
  }
}
