// Hot shared state by config: in this process (the embedded default) or in
// Redis (`cache.store: redis`), so replicas share one rate limit, one response
// cache, one in-flight call per identical request, one daily spend per key and
// one job queue.
import type { Config } from "../config/schema.js";
import {
  CacheInvalidator,
  createRedis,
  MemoryCacheStore,
  MemoryRateLimitStore,
  MemorySemanticCacheStore,
  RedisCacheStore,
  RedisCoalescer,
  RedisRateLimitStore,
  RedisSemanticCacheStore,
  RedisSpendCounter,
  SqliteCacheStore,
  SqliteSemanticCacheStore,
  type CacheStore,
  type SemanticCacheStore,
  type RateLimitStore,
  type Redis,
  type SpendCounter,
} from "../data/index.js";
import { MemoryJobQueue, RedisStreamQueue, type JobQueue } from "../jobs/index.js";
import type { InFlightCoalescer, Served } from "../models/index.js";
import type { ChatCompletion } from "../protocol/openai.js";
import type { Logger } from "../ops/index.js";
import type { Storage } from "./storage.js";

export interface HotState {
  rateLimits: RateLimitStore;
  /** The response cache's store (undefined when the cache is off). */
  cache: CacheStore<ChatCompletion> | undefined;
  /** The semantic cache's store (undefined unless `cache.semantic` is set and the cache is on). */
  semanticCache: SemanticCacheStore<ChatCompletion> | undefined;
  /** Cross-replica coalescing (undefined: the model layer coalesces in process). */
  coalescer: InFlightCoalescer<Served<ChatCompletion>> | undefined;
  /** Shared daily spend (undefined: kept in process, seeded from the usage store). */
  spend: SpendCounter | undefined;
  jobs: JobQueue;
  /** Tell the other replicas to drop local caches of a kind (e.g. "keys" after a revocation). */
  broadcastInvalidation(kind: string): void;
  /** Called when another replica broadcast an invalidation. */
  onInvalidation(listener: (kind: string) => void): Promise<void>;
  /** Rejects when Redis does not answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function openHotState(config: Config, storage: Storage, log: Logger): HotState {
  const c = config.cache;
  const semantic = c.enabled ? c.semantic : undefined;
  if (c.store !== "redis") {
    const rateLimits = new MemoryRateLimitStore();
    const sqlite = c.store === "sqlite" ? storage.sqlite : undefined;
    return {
      rateLimits,
      cache: !c.enabled ? undefined : sqlite ? new SqliteCacheStore<ChatCompletion>(sqlite, c.maxEntries) : new MemoryCacheStore<ChatCompletion>(c.maxEntries),
      semanticCache: !semantic ? undefined : sqlite ? new SqliteSemanticCacheStore<ChatCompletion>(sqlite, semantic.maxEntries) : new MemorySemanticCacheStore<ChatCompletion>(semantic.maxEntries),
      coalescer: undefined,
      spend: undefined,
      jobs: new MemoryJobQueue(),
      broadcastInvalidation: () => {},
      onInvalidation: async () => {},
      ping: async () => {},
      close: async () => {},
    };
  }
  const url = config.redis?.url?.reveal() ?? process.env.REDIS_URL!;
  const redis: Redis = createRedis(url, { keyPrefix: config.redis?.keyPrefix ?? "stratum:", commandTimeoutMs: config.redis?.commandTimeoutMs ?? 2_000 });
  const rateLimits = new RedisRateLimitStore(redis);
  const coalescer = new RedisCoalescer<Served<ChatCompletion>>(redis);
  const invalidator = new CacheInvalidator(redis, { channel: "invalidate" });
  return {
    rateLimits,
    cache: c.enabled ? new RedisCacheStore<ChatCompletion>(redis, { log }) : undefined,
    semanticCache: semantic ? new RedisSemanticCacheStore<ChatCompletion>(redis) : undefined,
    coalescer,
    spend: new RedisSpendCounter(redis),
    jobs: new RedisStreamQueue(redis, { onError: (err: unknown) => log.error({ err }, "job queue error") }),
    broadcastInvalidation: (kind) => void invalidator.publish(kind).catch((err: unknown) => log.error({ err, kind }, "invalidation broadcast failed")),
    onInvalidation: async (listener) => {
      await invalidator.subscribe(listener);
    },
    ping: async () => {
      await redis.ping();
    },
    close: async () => {
      rateLimits.close();
      coalescer.close();
      invalidator.close();
      redis.disconnect();
    },
  };
}
