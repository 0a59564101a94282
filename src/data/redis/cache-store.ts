// Shared response cache on Redis: JSON values with a PX TTL. Memory is bounded
// by Redis itself (maxmemory + an eviction policy such as allkeys-lru), and
// per value by `maxValueBytes`.
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { Logger } from "../../ops/logger.js";
import type { CacheStore } from "../types.js";
import { guard, keyPrefixOf, unlinkByPrefix } from "./client.js";

export const DEFAULT_MAX_VALUE_BYTES = 1024 * 1024;

export interface RedisCacheStoreOptions {
  /** Namespace inside the client's keyPrefix (default "cache:"). */
  namespace?: string;
  /**
   * Values whose JSON is larger than this (default 1 MiB) are not stored: `set`
   * resolves without storing (and drops any older value under the key so it
   * cannot be served stale), logging a warning when a logger is given.
   */
  maxValueBytes?: number;
  /** Publishes `clear(prefix)` so other replicas drop their local caches too. */
  invalidator?: CacheInvalidator;
  log?: Pick<Logger, "warn">;
}

export class RedisCacheStore<V> implements CacheStore<V> {
  private readonly ns: string;
  private readonly maxValueBytes: number;

  constructor(
    private readonly redis: Redis,
    private readonly opts: RedisCacheStoreOptions = {},
  ) {
    this.ns = opts.namespace ?? "cache:";
    this.maxValueBytes = opts.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
  }

  async get(key: string): Promise<V | undefined> {
    const raw = await guard("cache get", () => this.redis.get(this.ns + key));
    if (raw === null) return undefined;
    try {
      return JSON.parse(raw) as V;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: V, ttlMs: number): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) return;
    if (Buffer.byteLength(json) > this.maxValueBytes) {
      this.opts.log?.warn({ key, bytes: Buffer.byteLength(json), maxValueBytes: this.maxValueBytes }, "cache value too large; not stored");
      await guard("cache delete", () => this.redis.unlink(this.ns + key));
      return;
    }
    await guard("cache set", () => this.redis.set(this.ns + key, json, "PX", Math.max(1, Math.ceil(ttlMs))));
  }

  async delete(key: string): Promise<void> {
    await guard("cache delete", () => this.redis.unlink(this.ns + key));
  }

  /** SCAN + UNLINK in batches (never KEYS); then tells other replicas through the invalidator, if any. */
  async clear(prefix = ""): Promise<void> {
    await guard("cache clear", () => unlinkByPrefix(this.redis, this.ns + prefix));
    if (this.opts.invalidator) await this.opts.invalidator.publish(prefix);
  }
}

export interface CacheInvalidatorOptions {
  /** Channel name inside the client's keyPrefix (default "cache:invalidate"). */
  channel?: string;
}

/**
 * Cross-replica cache invalidation over pub/sub. Each replica subscribes with a
 * callback that drops entries from its local (memory) caches; `publish(prefix)`
 * reaches every other replica. A replica's own messages are not delivered back
 * to it (it has already cleared locally).
 */
export class CacheInvalidator {
  private readonly id = randomUUID();
  private readonly channel: string;
  private sub: Redis | undefined;
  private readonly listeners = new Set<(prefix: string) => void>();

  constructor(
    private readonly redis: Redis,
    opts: CacheInvalidatorOptions = {},
  ) {
    // ioredis does not prefix channels; do it here so deployments sharing a Redis stay apart.
    this.channel = keyPrefixOf(redis) + (opts.channel ?? "cache:invalidate");
  }

  /** Start listening (one subscriber connection per invalidator). Resolves once subscribed. */
  async subscribe(onClear: (prefix: string) => void): Promise<() => void> {
    this.listeners.add(onClear);
    if (!this.sub) {
      const sub = this.redis.duplicate();
      sub.on("error", () => {});
      sub.on("message", (channel: string, message: string) => {
        if (channel !== this.channel) return;
        let msg: { from?: string; prefix?: string };
        try {
          msg = JSON.parse(message) as typeof msg;
        } catch {
          return;
        }
        if (msg.from === this.id || typeof msg.prefix !== "string") return;
        for (const l of this.listeners) l(msg.prefix);
      });
      this.sub = sub;
      await guard("cache subscribe", () => sub.subscribe(this.channel));
    }
    return () => void this.listeners.delete(onClear);
  }

  /** Tell other replicas to drop entries starting with `prefix` ("" = everything). */
  async publish(prefix: string): Promise<void> {
    await guard("cache publish", () => this.redis.publish(this.channel, JSON.stringify({ from: this.id, prefix })));
  }

  close(): void {
    this.listeners.clear();
    this.sub?.disconnect();
    this.sub = undefined;
  }
}
