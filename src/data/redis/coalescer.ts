// Coalescing of identical in-flight requests ACROSS replicas (same surface as
// core/coalescer.ts, which it uses for the local part). Locally, callers on one replica share one
// promise. Across replicas, the first to `SET lock NX PX` owns the call: it
// runs fn, keeps the lock alive while fn runs, stores the result under a short
// TTL and PUBLISHes completion. The others subscribe and read that result. If
// the owner fails (fn throws, or it is aborted) the lock is released and a
// waiter takes over and runs fn itself; if the owner dies, its lock expires
// after lockTtlMs and a waiter takes over. Waits are bounded by maxWaitMs,
// after which a waiter runs fn uncoalesced. When Redis is unreachable, callers
// run fn uncoalesced (still shared locally). Results must be JSON-serialisable.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import { Coalescer, type InFlightCoalescer } from "../../core/coalescer.js";
import { StratumError } from "../../core/errors.js";
import { guard, keyPrefixOf } from "./client.js";

export interface RedisCoalescerOptions {
  /** Namespace inside the client's keyPrefix (default "coalesce:"). */
  namespace?: string;
  /** Owner lock TTL; refreshed every ttl/3 while fn runs, so it only bounds takeover after a crash (default 10 000 ms). */
  lockTtlMs?: number;
  /** How long a finished result stays readable for waiters (default 10 000 ms). */
  resultTtlMs?: number;
  /** A waiter re-checks the result and the lock at least this often, in case a message was missed (default 500 ms). */
  pollMs?: number;
  /** Longest a waiter waits for another replica before running fn itself (default 120 000 ms). */
  maxWaitMs?: number;
}

const RELEASE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;

interface Scripts {
  stratumLockRelease(key: string, token: string): Promise<number>;
  stratumLockExtend(key: string, token: string, ttlMs: number): Promise<number>;
}

export class RedisCoalescer<T> implements InFlightCoalescer<T> {
  private readonly local = new Coalescer<{ value: T; shared: boolean }>();
  private readonly redis: Redis & Scripts;
  private readonly ns: string;
  private readonly channelPrefix: string;
  private readonly lockTtlMs: number;
  private readonly resultTtlMs: number;
  private readonly pollMs: number;
  private readonly maxWaitMs: number;
  private sub: Redis | undefined;
  private subscribed: Promise<unknown> | undefined;
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(redis: Redis, opts: RedisCoalescerOptions = {}) {
    this.ns = opts.namespace ?? "coalesce:";
    this.channelPrefix = keyPrefixOf(redis) + this.ns + "done:";
    this.lockTtlMs = opts.lockTtlMs ?? 10_000;
    this.resultTtlMs = opts.resultTtlMs ?? 10_000;
    this.pollMs = opts.pollMs ?? 500;
    this.maxWaitMs = opts.maxWaitMs ?? 120_000;
    const r = redis as Redis & Partial<Scripts>;
    if (!r.stratumLockRelease) {
      redis.defineCommand("stratumLockRelease", { numberOfKeys: 1, lua: RELEASE_LUA });
      redis.defineCommand("stratumLockExtend", { numberOfKeys: 1, lua: EXTEND_LUA });
    }
    this.redis = redis as Redis & Scripts;
  }

  /** Run `fn` once per key at a time across every replica. `shared` tells the caller it joined another's call. */
  async run(key: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; shared: boolean }> {
    // Callers on this replica share one distributed attempt (the in-process coalescer does that part).
    const { value, shared } = await this.local.run(key, signal, (s) => this.distributed(key, s, fn));
    return { value: value.value, shared: shared || value.shared };
  }

  /** Local flights in progress. */
  get size(): number {
    return this.local.size;
  }

  close(): void {
    this.sub?.disconnect();
    this.sub = undefined;
    this.subscribed = undefined;
    this.listeners.clear();
  }

  private async distributed(key: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; shared: boolean }> {
    const lockKey = this.ns + "lock:" + key;
    const resultKey = this.ns + "result:" + key;
    const deadline = Date.now() + this.maxWaitMs;
    const token = randomUUID();
    for (;;) {
      if (signal.aborted) throw signal.reason;
      let got: string | null;
      try {
        got = await guard("coalesce lock", () => this.redis.set(lockKey, token, "PX", this.lockTtlMs, "NX"));
      } catch {
        // Redis down: coalescing is an optimisation, never a reason to fail the request.
        return { value: await fn(signal), shared: false };
      }
      if (got === "OK") return { value: await this.own(key, lockKey, resultKey, token, signal, fn), shared: false };
      // Another replica owns the call: wait for its result, its failure, or its lock to lapse.
      let outcome: Awaited<ReturnType<RedisCoalescer<T>["waitFor"]>>;
      try {
        outcome = await this.waitFor(key, lockKey, resultKey, signal, deadline);
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        if (!(e instanceof StratumError && e.code === "cache_unavailable")) throw e;
        return { value: await fn(signal), shared: false };
      }
      if (outcome.kind === "value") return { value: outcome.value, shared: true };
      if (outcome.kind === "timeout") return { value: await fn(signal), shared: false };
      // "free": the owner failed or died; loop to try to take over.
    }
  }

  private async own(key: string, lockKey: string, resultKey: string, token: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const keepAlive = setInterval(() => void this.redis.stratumLockExtend(lockKey, token, this.lockTtlMs).catch(() => {}), Math.max(10, Math.floor(this.lockTtlMs / 3)));
    keepAlive.unref();
    let value: T;
    try {
      value = await fn(signal);
    } catch (e) {
      clearInterval(keepAlive);
      // Let a waiter take over (or fail the same way on its own request).
      await this.redis.stratumLockRelease(lockKey, token).catch(() => {});
      await this.redis.publish(this.channelPrefix + key, "failed").catch(() => {});
      throw e;
    }
    clearInterval(keepAlive);
    // Publishing the result is best-effort: this caller already has it.
    try {
      // Result first, then the lock: a waiter that sees the lock gone also sees the result.
      await this.redis.set(resultKey, JSON.stringify({ v: value }), "PX", this.resultTtlMs);
      await this.redis.stratumLockRelease(lockKey, token);
      await this.redis.publish(this.channelPrefix + key, "done");
    } catch {
      await this.redis.stratumLockRelease(lockKey, token).catch(() => {});
    }
    return value;
  }

  private async waitFor(
    key: string,
    lockKey: string,
    resultKey: string,
    signal: AbortSignal,
    deadline: number,
  ): Promise<{ kind: "value"; value: T } | { kind: "free" } | { kind: "timeout" }> {
    let wake: () => void = () => {};
    const listener = () => wake();
    await this.listen(key, listener);
    try {
      for (;;) {
        // Check after subscribing so a completion between SET NX and SUBSCRIBE is not missed.
        const [[, raw], [, lockExists]] = (await guard("coalesce wait", () => this.redis.multi().get(resultKey).exists(lockKey).exec())) as [[unknown, string | null], [unknown, number]];
        if (raw) {
          try {
            return { kind: "value", value: (JSON.parse(raw) as { v: T }).v };
          } catch {
            return { kind: "free" };
          }
        }
        if (!lockExists) return { kind: "free" };
        const left = deadline - Date.now();
        if (left <= 0) return { kind: "timeout" };
        if (signal.aborted) throw signal.reason;
        await new Promise<void>((resolve) => {
          const t = setTimeout(done, Math.min(this.pollMs, left));
          function done() {
            clearTimeout(t);
            signal.removeEventListener("abort", done);
            resolve();
          }
          wake = done;
          signal.addEventListener("abort", done, { once: true });
        });
      }
    } finally {
      this.unlisten(key, listener);
    }
  }

  private async listen(key: string, listener: () => void): Promise<void> {
    if (!this.sub) {
      const sub = this.redis.duplicate();
      sub.on("error", () => {});
      sub.on("pmessage", (_pattern: string, channel: string) => {
        for (const l of this.listeners.get(channel.slice(this.channelPrefix.length)) ?? []) l();
      });
      this.sub = sub;
      // One pattern subscription for every key: no SUBSCRIBE/UNSUBSCRIBE per request.
      this.subscribed = sub.psubscribe(this.channelPrefix.replace(/[*?[\]\\]/g, (c) => "\\" + c) + "*");
    }
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    await guard("coalesce subscribe", () => this.subscribed!);
  }

  private unlisten(key: string, listener: () => void): void {
    const set = this.listeners.get(key);
    set?.delete(listener);
    if (set && !set.size) this.listeners.delete(key);
  }
}
