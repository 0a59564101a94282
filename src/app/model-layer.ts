// The model layer built from the config: providers → route table → router →
// model service. The server adds hooks (metrics, logs) and the cache; the CLI
// uses it bare (embeddings while ingesting).
import type { Config } from "../config/schema.js";
import { createProviders, ModelService, Router, RouteTable, type Attempt, type CircuitState, type ModelServiceHooks, type ResponseCache } from "../models/index.js";

export interface ModelLayerOptions {
  onCircuitChange?(deploymentId: string, state: CircuitState): void;
  onAttempt?(a: Attempt): void;
  cache?: ResponseCache;
  serviceHooks?: ModelServiceHooks;
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
    service: new ModelService(router, opts.cache, opts.serviceHooks),
    close: async () => {
      await Promise.all([...providers.values()].map((p) => p.close?.()));
    },
  };
}
