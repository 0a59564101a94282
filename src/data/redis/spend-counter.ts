// Spend per API key or tenant and per UTC day or month, shared by every
// replica, for budget checks on the hot path. One Redis key per counter and
// window, INCRBYFLOAT, expiring when its window ends.
import type { Redis } from "ioredis";
import { utcWindow, type UtcPeriod } from "../../core/utc-period.js";
import type { SpendSubject } from "../types.js";
import { guard } from "./client.js";

/** One budget's running total: whose spend, over which calendar period. */
export interface SpendCounterId {
  subject: SpendSubject;
  period: UtcPeriod;
}

/** Spend counters per subject and UTC window. */
export interface SpendCounter {
  /** Add `usd` to the counter's window containing `at` (default now); returns the new total. */
  add(counter: SpendCounterId, usd: number, at?: number): Promise<number>;
  /** The counter's total for the window containing `at` (default now); 0 when nothing was recorded. */
  get(counter: SpendCounterId, at?: number): Promise<number>;
  /**
   * Set the window's total only if no counter exists yet (seeding from UsageStore
   * after a cold start); returns the resulting total.
   */
  seed(counter: SpendCounterId, usd: number, at?: number): Promise<number>;
}

export class RedisSpendCounter implements SpendCounter {
  private readonly ns: string;
  constructor(
    private readonly redis: Redis,
    opts: { namespace?: string } = {},
  ) {
    this.ns = opts.namespace ?? "spend:";
  }

  private key(c: SpendCounterId, at: number): { key: string; end: number } {
    const w = utcWindow(c.period, at);
    // The period is part of the name: a month and its first day start at the same instant.
    return { key: `${this.ns}${c.period}:${w.start}:${c.subject.kind}:${c.subject.id}`, end: w.end };
  }

  async add(counter: SpendCounterId, usd: number, at = Date.now()): Promise<number> {
    const { key, end } = this.key(counter, at);
    const res = await guard("spend add", async () => {
      const out = await this.redis.multi().incrbyfloat(key, usd).pexpireat(key, end).exec();
      const err = out?.find(([e]) => e)?.[0];
      if (!out || err) throw err ?? new Error("transaction aborted");
      return out;
    });
    return Number(res[0]![1] as string);
  }

  async get(counter: SpendCounterId, at = Date.now()): Promise<number> {
    const v = await guard("spend get", () => this.redis.get(this.key(counter, at).key));
    return v === null ? 0 : Number(v);
  }

  async seed(counter: SpendCounterId, usd: number, at = Date.now()): Promise<number> {
    const { key, end } = this.key(counter, at);
    await guard("spend seed", () => this.redis.set(key, String(usd), "PXAT", end, "NX"));
    return this.get(counter, at);
  }
}
