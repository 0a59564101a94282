import type { SemanticCacheStore } from "../types.js";
import { nearestOf } from "../semantic-nearest.js";

interface Entry<V> {
  partition: string;
  vector: Float32Array;
  value: V;
  expiresAt: number;
}

/**
 * Semantic cache entries in memory: a brute-force scan of one partition per
 * lookup (a partition is one tenant, model and conversation prefix, so it
 * stays small), at most `maxEntries` in all, the oldest dropped first.
 */
export class MemorySemanticCacheStore<V> implements SemanticCacheStore<V> {
  private readonly partitions = new Map<string, Entry<V>[]>();
  /** Every live entry, oldest first: eviction order. */
  private readonly order: Entry<V>[] = [];
  constructor(private readonly maxEntries = 2_000) {}

  async nearest(partition: string, vector: Float32Array, minScore: number): Promise<{ value: V; score: number } | undefined> {
    const now = Date.now();
    const live = (this.partitions.get(partition) ?? []).filter((e) => e.expiresAt > now);
    const best = nearestOf(live, (e) => e.vector, vector, minScore);
    return best && { value: best.entry.value, score: best.score };
  }

  async add(partition: string, vector: Float32Array, value: V, ttlMs: number): Promise<void> {
    const e: Entry<V> = { partition, vector, value, expiresAt: Date.now() + ttlMs };
    const list = this.partitions.get(partition);
    if (list) list.push(e);
    else this.partitions.set(partition, [e]);
    this.order.push(e);
    while (this.order.length > this.maxEntries) this.remove(this.order.shift()!);
  }

  async clear(prefix = ""): Promise<void> {
    for (const e of [...this.order]) if (e.partition.startsWith(prefix)) this.remove(e, true);
  }

  get size(): number {
    return this.order.length;
  }

  private remove(e: Entry<V>, fromOrder = false): void {
    const list = this.partitions.get(e.partition)!;
    list.splice(list.indexOf(e), 1);
    if (!list.length) this.partitions.delete(e.partition);
    if (fromOrder) this.order.splice(this.order.indexOf(e), 1);
  }
}
