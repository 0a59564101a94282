// The model layer built from the config: providers → route table → router →
// model service. The server adds hooks (metrics, logs) and the cache; the CLI
// uses it bare (embeddings while ingesting).
import type { Config } from "../config/schema.js";
import { ConfigError } from "../config/index.js";
import type { SemanticCacheStore } from "../data/index.js";
import { createProviders, ModelService, Router, RouteTable, SemanticCache, type Attempt, type CircuitState, type InFlightCoalescer, type ModelServiceHooks, type ResponseCache, type Served } from "../models/index.js";
import type { ChatCompletion } from "../protocol/openai.js";

export interface ModelLayerOptions {
  onCircuitChange?(deploymentId: string, state: CircuitState): void;
  onAttempt?(a: Attempt): void;
  onRetry?(deploymentId: string, granted: boolean): void;
  cache?: ResponseCache;
  serviceHooks?: ModelServiceHooks;
  /** Cross-replica coalescing; in process by default. */
  coalescer?: InFlightCoalescer<Served<ChatCompletion>>;
  /** The semantic cache's store: hot state makes one when `cache.semantic` is set and the cache is on; without it there is no semantic cache (the CLI's embedding-only use). */
  semanticStore?: SemanticCacheStore<ChatCompletion>;
}

export interface ModelLayer {
  table: RouteTable;
  service: ModelService;
  /** Release the providers' pooled connections. */
  close(): Promise<void>;
}

export function createModelLayer(config: Config, opts: ModelLayerOptions = {}): ModelLayer {
  const providers = createProviders(config.providers);
  const table = new RouteTable(config, providers, opts.onCircuitChange);
  const router = new Router(table, { onAttempt: opts.onAttempt, onRetry: opts.onRetry });
  const semantic = semanticCache(config, table, router, opts.semanticStore);
  return {
    table,
    service: new ModelService(router, opts.cache, opts.serviceHooks, opts.coalescer, semantic),
    close: async () => {
      await Promise.all([...providers.values()].map((p) => p.close?.()));
    },
  };
}

/** The semantic cache over `store`, its embedding model checked. */
function semanticCache(config: Config, table: RouteTable, router: Router, store: SemanticCacheStore<ChatCompletion> | undefined): SemanticCache | undefined {
  const c = config.cache;
  if (!store || !c.semantic) return undefined;
  const alias = c.semantic.embeddingModel;
  if (!table.has(alias) || !table.servesEmbeddings(alias)) {
    throw new ConfigError("Invalid configuration", [`cache.semantic.embeddingModel: "${alias}" is not a model alias that serves embeddings (embeddings: true)`]);
  }
  return new SemanticCache(
    store,
    async (text, signal) => {
      // Through the router: the embedding model's retries, breaker and fallbacks apply.
      const { result } = await router.embed(alias, { model: alias, input: text }, { signal, requestId: "semantic-cache" });
      const v = result.data[0]?.embedding;
      if (!Array.isArray(v)) throw new Error(`semantic cache: ${alias} returned no float embedding`);
      return v;
    },
    { threshold: c.semantic.threshold, ttlMs: c.ttlSeconds * 1000, maxTemperature: c.maxTemperature },
  );
}
