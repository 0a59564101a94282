// Usage accounting off the response path: records are queued in memory and
// written in batches (one SQLite transaction per flush), so accounting never
// slows or breaks a request. Budgets read spend tallies per key or tenant and
// per UTC day or month: a tally is made the first time a budget asks for it
// (seeded from the store plus the records not written yet) and kept current
// by every record after that, so a server without budgets tallies nothing.
import { utcWindow, type UtcPeriod } from "../core/utc-period.js";
import type { SpendCounter, SpendCounterId, SpendSubject, UsageRecord, UsageStore } from "../data/index.js";
import type { Logger } from "./logger.js";

interface Tally {
  id: SpendCounterId;
  start: number;
  end: number;
  usd: number;
  seeded: Promise<void>;
}

const SUBJECT_KINDS = ["key", "tenant"] as const;
const PERIODS: readonly UtcPeriod[] = ["day", "month"];

const tallyKey = (kind: SpendSubject["kind"], id: string, period: UtcPeriod) => `${kind}\0${period}\0${id}`;
const subjectOf = (r: UsageRecord, kind: SpendSubject["kind"]) => (kind === "key" ? r.keyId : r.tenant);

export class UsageRecorder {
  private queue: UsageRecord[] = [];
  /** Batches handed to the store and not written yet. */
  private readonly writing = new Set<readonly UsageRecord[]>();
  private readonly tallies = new Map<string, Tally>();
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
      /** Shared spend counters (replicas): budgets then hold across processes. */
      spend?: SpendCounter;
    } = {},
  ) {}

  record(r: UsageRecord): void {
    if (this.closed) {
      // A stream cut at the drain timeout can finish after shutdown; the store is gone.
      this.log.warn({ requestId: r.requestId }, "usage record after shutdown; not stored");
      return;
    }
    if (this.tallies.size && r.costUsd > 0) this.tallySpend(r);
    if (this.queue.length >= (this.opts.maxQueue ?? 100_000)) {
      // The store is down or far behind: keep memory bounded, say so loudly.
      this.log.error({ dropped: 1 }, "usage queue full; dropping a usage record");
      return;
    }
    this.queue.push(r);
    if (this.queue.length >= (this.opts.maxBatch ?? 500)) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.opts.flushIntervalMs ?? 250);
  }

  /**
   * What a key or a tenant spent in the current UTC day or month, including
   * records not written yet (and, with shared counters, every replica's).
   */
  async spent(subject: SpendSubject, period: UtcPeriod): Promise<number> {
    const t = this.tally(subject, period);
    await t.seeded;
    const shared = this.opts.spend;
    if (!shared) return t.usd;
    try {
      return await shared.get(t.id, t.start);
    } catch (e) {
      // The shared counter is down: this replica's view is the best left.
      this.log.error({ err: e }, "shared spend counter unavailable; using this replica's count");
      return t.usd;
    }
  }

  summary(filter: { since: number; tenant?: string }) {
    return this.store.summary(filter);
  }

  hourly(filter: { since: number; tenant?: string }) {
    return this.store.hourly(filter);
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (!batch.length) return this.flushing;
    this.queue = [];
    this.writing.add(batch);
    this.flushing = this.flushing.then(() =>
      this.store
        .append(batch)
        .catch((e: unknown) => {
          // Keep the records for the next flush rather than losing them.
          this.log.error({ err: e, records: batch.length }, "usage flush failed; will retry");
          this.queue = batch.concat(this.queue);
          if (!this.closed) this.timer ??= setTimeout(() => void this.flush(), 1000);
        })
        .finally(() => this.writing.delete(batch)),
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

  private tallySpend(r: UsageRecord): void {
    const shared = this.opts.spend;
    for (const kind of SUBJECT_KINDS) {
      for (const period of PERIODS) {
        const t = this.tallies.get(tallyKey(kind, subjectOf(r, kind), period));
        if (!t || r.at < t.start || r.at >= t.end) continue;
        t.usd += r.costUsd;
        if (shared) void t.seeded.then(() => shared.add(t.id, r.costUsd, r.at)).catch((e: unknown) => this.log.error({ err: e }, "shared spend counter update failed"));
      }
    }
  }

  private tally(subject: SpendSubject, period: UtcPeriod): Tally {
    const now = Date.now();
    const key = tallyKey(subject.kind, subject.id, period);
    const known = this.tallies.get(key);
    if (known && now >= known.start && now < known.end) return known;
    for (const [k, t] of this.tallies) if (t.end <= now) this.tallies.delete(k);
    const w = utcWindow(period, now);
    // Records queued or being written are not in the store yet; records after this one are tallied as they come.
    // A batch can be counted twice if the tally starts between its write and its leaving `writing` (a few
    // microtasks; with PostgreSQL, a read that overlaps the write): budgets then err towards blocking early, never late.
    let pending = 0;
    for (const batch of [this.queue, ...this.writing]) {
      for (const r of batch) if (r.at >= w.start && r.at < w.end && subjectOf(r, subject.kind) === subject.id) pending += r.costUsd;
    }
    const fresh: Tally = { id: { subject, period }, start: w.start, end: w.end, usd: pending, seeded: Promise.resolve() };
    const shared = this.opts.spend;
    fresh.seeded = this.store
      .costSince(subject, w.start)
      .then(async (stored) => {
        fresh.usd += stored;
        // A shared counter is seeded once, by whichever replica gets there first, from the same store.
        if (shared) await shared.seed(fresh.id, stored + pending, w.start);
      })
      .catch((e: unknown) => this.log.error({ err: e, subject, period }, "cannot read the spend recorded so far"));
    this.tallies.set(key, fresh);
    return fresh;
  }
}
