// The model layer built from the config: providers → route table → router →
// model service. The server adds hooks (metrics, logs) and the cache; the CLI
// uses it bare (embeddings while ingesting).
import type { Config } from "../config/schema.js";
import { createProviders, ModelService, Router, RouteTable, type Attempt, type CircuitState, type InFlightCoalescer, type ModelServiceHooks, type ResponseCache, type Served } from "../models/index.js";
import type { ChatCompletion } from "../protocol/openai.js";

export interface ModelLayerOptions {
  onCircuitChange?(deploymentId: string, state: CircuitState): void;
  onAttempt?(a: Attempt): void;
  cache?: ResponseCache;
  serviceHooks?: ModelServiceHooks;
  /** Cross-replica coalescing; in process by default. */
  coalescer?: InFlightCoalescer<Served<ChatCompletion>>;
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
  const router = new Router(table, opts.onAttempt ? { onAttempt: opts.onAttempt } : {});
  return {
    table,
    service: new ModelService(router, opts.cache, opts.serviceHooks, opts.coalescer),
    close: async () => {
      await Promise.all([...providers.values()].map((p) => p.close?.()));
    },
  };
}
