import type { CacheStore } from "../types.js";

/** Bounded LRU with per-entry TTL. A Map keeps insertion order; re-inserting on hit makes it LRU. */
export class MemoryCacheStore<V> implements CacheStore<V> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();
  constructor(private readonly maxEntries = 10_000) {}
  async get(key: string): Promise<V | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, e);
    return e.value;
  }
  async set(key: string, value: V, ttlMs: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: Date.now() + ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }
  async clear(prefix = ""): Promise<void> {
    if (!prefix) return this.entries.clear();
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.entries.delete(k);
  }
  get size(): number {
    return this.entries.size;
  }
}
