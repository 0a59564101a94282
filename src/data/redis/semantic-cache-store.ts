// Semantic cache entries shared by replicas: one Redis list per partition,
// newest first, capped (LTRIM), expiring with its longest-lived entry (each
// entry also carries its own expiry, checked on read). A lookup reads the
// partition's list and scans it here (plain Redis has no vector search), so
// the cap bounds what one lookup transfers.
import type { Redis } from "ioredis";
import type { SemanticCacheStore } from "../types.js";
import { nearestOf } from "../semantic-nearest.js";
import { guard, unlinkByPrefix } from "./client.js";

interface Stored<V> {
  /** float32 little-endian, base64 */
  v: string;
  /** expires at, epoch ms */
  x: number;
  d: V;
}

export class RedisSemanticCacheStore<V> implements SemanticCacheStore<V> {
  private readonly ns: string;
  private readonly perPartition: number;

  constructor(
    private readonly redis: Redis,
    opts: { namespace?: string; maxPerPartition?: number } = {},
  ) {
    this.ns = opts.namespace ?? "semcache:";
    this.perPartition = opts.maxPerPartition ?? 256;
  }

  async nearest(partition: string, vector: Float32Array, minScore: number): Promise<{ value: V; score: number } | undefined> {
    const raw = await guard("semantic cache read", () => this.redis.lrange(this.ns + partition, 0, -1));
    const now = Date.now();
    const live: Array<{ vector: Float32Array; value: V }> = [];
    for (const r of raw) {
      let e: Stored<V>;
      try {
        e = JSON.parse(r) as Stored<V>;
      } catch {
        continue; // not ours, or cut off: skip it
      }
      if (e.x <= now) continue;
      const b = Buffer.from(e.v, "base64");
      live.push({ vector: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)), value: e.d });
    }
    const best = nearestOf(live, (e) => e.vector, vector, minScore);
    return best && { value: best.entry.value, score: best.score };
  }

  async add(partition: string, vector: Float32Array, value: V, ttlMs: number): Promise<void> {
    const key = this.ns + partition;
    const entry: Stored<V> = { v: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64"), x: Date.now() + ttlMs, d: value };
    await guard("semantic cache write", async () => {
      const out = await this.redis
        .multi()
        .lpush(key, JSON.stringify(entry))
        .ltrim(key, 0, this.perPartition - 1)
        // The list lives as long as its longest-lived entry: set for a new list (NX), else only extended (GT).
        .pexpire(key, Math.max(1, Math.ceil(ttlMs)), "NX")
        .pexpire(key, Math.max(1, Math.ceil(ttlMs)), "GT")
        .exec();
      const err = out?.find(([e]) => e)?.[0];
      if (!out || err) throw err ?? new Error("transaction aborted");
    });
  }

  async clear(prefix = ""): Promise<void> {
    await guard("semantic cache clear", () => unlinkByPrefix(this.redis, this.ns + prefix));
  }
}
