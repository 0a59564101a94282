// Daily spend per API key, shared by every replica, for budget checks on the
// hot path. One Redis key per (API key, UTC day), INCRBYFLOAT, expiring at the
// end of that UTC day.
import type { Redis } from "ioredis";
import { guard } from "./client.js";

const DAY_MS = 86_400_000;

function dayStart(t: number): number {
  return t - (t % DAY_MS);
}

/** Daily (UTC) spend counters per API key. */
export interface SpendCounter {
  /** Add `usd` to the key's spend for the UTC day containing `at` (default now); returns the new total. */
  add(keyId: string, usd: number, at?: number): Promise<number>;
  /** The key's spend for the UTC day containing `at` (default now); 0 when nothing was recorded. */
  get(keyId: string, at?: number): Promise<number>;
  /**
   * Set the day's spend only if no counter exists yet (seeding from UsageStore
   * after a cold start); returns the resulting total.
   */
  seed(keyId: string, usd: number, at?: number): Promise<number>;
}

export class RedisSpendCounter implements SpendCounter {
  private readonly ns: string;
  constructor(
    private readonly redis: Redis,
    opts: { namespace?: string } = {},
  ) {
    this.ns = opts.namespace ?? "spend:";
  }

  private key(keyId: string, day: number): string {
    return `${this.ns}${day}:${keyId}`;
  }

  async add(keyId: string, usd: number, at = Date.now()): Promise<number> {
    const day = dayStart(at);
    const key = this.key(keyId, day);
    const res = await guard("spend add", async () => {
      const out = await this.redis.multi().incrbyfloat(key, usd).pexpireat(key, day + DAY_MS).exec();
      const err = out?.find(([e]) => e)?.[0];
      if (!out || err) throw err ?? new Error("transaction aborted");
      return out;
    });
    const total = res[0]![1] as string;
    return Number(total);
  }

  async get(keyId: string, at = Date.now()): Promise<number> {
    const v = await guard("spend get", () => this.redis.get(this.key(keyId, dayStart(at))));
    return v === null ? 0 : Number(v);
  }

  async seed(keyId: string, usd: number, at = Date.now()): Promise<number> {
    const day = dayStart(at);
    const key = this.key(keyId, day);
    await guard("spend seed", () => this.redis.set(key, String(usd), "PXAT", day + DAY_MS, "NX"));
    return this.get(keyId, at);
  }
}

/** In-process SpendCounter (single replica; the embedded default's equivalent). */
export class MemorySpendCounter implements SpendCounter {
  private readonly totals = new Map<string, number>();

  async add(keyId: string, usd: number, at = Date.now()): Promise<number> {
    const day = dayStart(at);
    this.sweep(day);
    const k = `${day}:${keyId}`;
    const v = (this.totals.get(k) ?? 0) + usd;
    this.totals.set(k, v);
    return v;
  }
  async get(keyId: string, at = Date.now()): Promise<number> {
    return this.totals.get(`${dayStart(at)}:${keyId}`) ?? 0;
  }
  async seed(keyId: string, usd: number, at = Date.now()): Promise<number> {
    const k = `${dayStart(at)}:${keyId}`;
    if (!this.totals.has(k)) this.totals.set(k, usd);
    return this.totals.get(k)!;
  }
  /** Drop days before yesterday. */
  private sweep(today: number): void {
    for (const k of this.totals.keys()) if (Number(k.slice(0, k.indexOf(":"))) < today - DAY_MS) this.totals.delete(k);
  }
}
