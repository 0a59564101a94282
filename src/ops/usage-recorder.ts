// Usage accounting off the response path: records are queued in memory and
// written in batches (one SQLite transaction per flush), so accounting never
// slows or breaks a request. Daily spend per key is kept in memory (seeded
// from the store once per key and day) for budget checks on the hot path.
import type { SpendCounter, UsageRecord, UsageStore } from "../data/index.js";
import type { Logger } from "./logger.js";

export function utcDayStart(t = Date.now()): number {
  return t - (t % 86_400_000);
}

export class UsageRecorder {
  private queue: UsageRecord[] = [];
  private readonly spend = new Map<string, { day: number; usd: number; seeded: Promise<void> | undefined }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: UsageStore,
    private readonly log: Logger,
    private readonly opts: {
      flushIntervalMs?: number;
      maxBatch?: number;
      maxQueue?: number;
      /** Shared daily spend (replicas): budgets then hold across processes. */
      spend?: SpendCounter;
    } = {},
  ) {}

  record(r: UsageRecord): void {
    if (this.closed) {
      // A stream cut at the drain timeout can finish after shutdown; the store is gone.
      this.log.warn({ requestId: r.requestId }, "usage record after shutdown; not stored");
      return;
    }
    const s = this.entry(r.keyId, utcDayStart(r.at));
    s.usd += r.costUsd;
    const shared = this.opts.spend;
    if (shared && r.costUsd > 0) {
      void s.seeded!.then(() => shared.add(r.keyId, r.costUsd, r.at)).catch((e: unknown) => this.log.error({ err: e }, "shared spend counter update failed"));
    }
    if (this.queue.length >= (this.opts.maxQueue ?? 100_000)) {
      // The store is down or far behind: keep memory bounded, say so loudly.
      this.log.error({ dropped: 1 }, "usage queue full; dropping a usage record");
      return;
    }
    this.queue.push(r);
    if (this.queue.length >= (this.opts.maxBatch ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 250);
  }

  /** Today's spend for a key, including records not yet flushed (and, when shared, every replica's). */
  async spentToday(keyId: string): Promise<number> {
    const s = this.entry(keyId, utcDayStart());
    await s.seeded;
    if (!this.opts.spend) return s.usd;
    try {
      return await this.opts.spend.get(keyId);
    } catch (e) {
      // The shared counter is down: this replica's view is the best left.
      this.log.error({ err: e }, "shared spend counter unavailable; using this replica's count");
      return s.usd;
    }
  }

  summary(filter: { since: number; tenant?: string }) {
    return this.store.summary(filter);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (!batch.length) return this.flushing;
    this.queue = [];
    this.flushing = this.flushing.then(() =>
      this.store.append(batch).catch((e: unknown) => {
        // Keep the records for the next flush rather than losing them.
        this.log.error({ err: e, records: batch.length }, "usage flush failed; will retry");
        this.queue = batch.concat(this.queue);
        if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), 1000);
      }),
    );
    return this.flushing;
  }

  /** Flush what is queued and stop accepting records (before the store closes). */
  async close(): Promise<void> {
    await this.flush();
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length) this.log.error({ records: this.queue.length }, "usage records could not be written before shutdown");
  }

  private entry(keyId: string, day: number) {
    let s = this.spend.get(keyId);
    if (!s || s.day !== day) {
      const fresh = { day, usd: 0, seeded: undefined as Promise<void> | undefined };
      // Seed from what earlier runs (or other processes) recorded today; pending records here are added on top.
      // A shared counter is seeded once (by whichever replica gets there first) from the same store.
      const spend = this.opts.spend;
      fresh.seeded = this.store
        .costSince(keyId, day)
        .then(async (usd) => {
          fresh.usd += usd;
          if (spend) await spend.seed(keyId, usd, day);
        })
        .catch((e: unknown) => this.log.error({ err: e }, "cannot read today's spend"));
      s = fresh;
      this.spend.set(keyId, s);
    }
    return s;
  }
}
