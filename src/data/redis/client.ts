// Redis connection for the scale-out stores. Tuned to fail fast: a dead or
// unreachable Redis turns into a `cache_unavailable` error within
// `commandTimeoutMs` instead of hanging the request that needed it.
import type { Redis, RedisOptions } from "ioredis";
import { StratumError } from "../../core/errors.js";
import { lazyModule } from "../../core/lazy-module.js";

export type { Redis };

// Loaded on first use: an embedded server never carries the client library.
const ioredis = lazyModule<typeof import("ioredis")>("ioredis");

export interface CreateRedisOptions {
  /** Prepended to every key (ioredis `keyPrefix`); also applied by these stores to pub/sub channels and SCAN patterns, which ioredis leaves alone. */
  keyPrefix?: string;
  /** A command without a reply within this time fails (default 2000 ms). Includes time queued while (re)connecting. */
  commandTimeoutMs?: number;
  /** Reconnect attempts a queued command waits for before failing (default 1). */
  maxRetriesPerRequest?: number;
  connectTimeoutMs?: number;
  /** Extra ioredis options (override the above). */
  options?: Partial<RedisOptions>;
}

/** A Redis client for Stratum stores. Connects immediately; commands queue briefly while connecting and time out. */
export function createRedis(url: string, opts: CreateRedisOptions = {}): Redis {
  const { Redis } = ioredis();
  const client = new Redis(url, {
    keyPrefix: opts.keyPrefix ?? "",
    commandTimeout: opts.commandTimeoutMs ?? 2000,
    maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 1,
    connectTimeout: opts.connectTimeoutMs ?? 2000,
    // Keep the offline queue (so commands issued during startup wait for the
    // connection) but bound it by commandTimeout above.
    enableOfflineQueue: true,
    // Exponential backoff capped at 2 s: keep trying in the background.
    retryStrategy: (times) => Math.min(2000, 50 * 2 ** Math.min(times, 6)),
    ...opts.options,
  });
  // Without a listener, ioredis prints every connection error; callers see failures as cache_unavailable.
  client.on("error", () => {});
  return client;
}

/** The key prefix a client applies (ioredis does not apply it to channels or SCAN patterns). */
export function keyPrefixOf(redis: Redis): string {
  const p = redis.options.keyPrefix;
  return typeof p === "string" ? p : "";
}

/** Map any Redis/connection failure to one error kind the gateway understands. */
export function redisUnavailable(e: unknown, op = "redis"): StratumError {
  if (e instanceof StratumError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new StratumError("Unavailable", `Redis unavailable (${op}): ${message}`, { code: "cache_unavailable", retryable: true, cause: e });
}

/** Await a Redis call, mapping failures with `redisUnavailable`. */
export async function guard<T>(op: string, p: Promise<T> | (() => Promise<T>)): Promise<T> {
  try {
    return await (typeof p === "function" ? p() : p);
  } catch (e) {
    throw redisUnavailable(e, op);
  }
}

/** Escape glob metacharacters for SCAN MATCH. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => "\\" + c);
}

/**
 * Delete every key starting with `prefix` (relative to the client's keyPrefix)
 * with SCAN + UNLINK in batches: never KEYS, never blocks the server.
 * Returns the number of keys unlinked.
 */
export async function unlinkByPrefix(redis: Redis, prefix: string, batch = 500): Promise<number> {
  const kp = keyPrefixOf(redis);
  const match = globEscape(kp + prefix) + "*";
  let cursor = "0";
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", match, "COUNT", batch);
    cursor = next;
    if (keys.length) {
      // SCAN returns full keys; UNLINK re-applies keyPrefix, so strip it.
      n += await redis.unlink(...keys.map((k) => k.slice(kp.length)));
    }
  } while (cursor !== "0");
  return n;
}
