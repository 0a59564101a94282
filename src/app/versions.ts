// Registry and rollouts, wired: the config file's pipelines seed the registry
// (see RegistryService.seedPipelines for what a changed config does), and
// pipelines are served by version through VersionedPipelines, which builds a
// version's spec with the app's pipeline factory (the config's own pipelines
// are reused for their hashes).
import type { Config, PipelineConfig } from "../config/schema.js";
import type { Logger } from "../ops/logger.js";
import { servedFromCache } from "../models/index.js";
import { PriceTable } from "../ops/pricing.js";
import type { Pipeline } from "../pipelines/index.js";
import { RegistryService } from "../registry/index.js";
import { RolloutService, ShadowRunner, VersionedPipelines } from "../rollouts/index.js";
import type { Storage } from "./storage.js";

export interface VersionServing {
  registry: RegistryService;
  rollouts: RolloutService;
  versioned: VersionedPipelines;
  shadow: ShadowRunner;
  /** Waits (bounded) for shadow mirrors in flight. */
  close(): Promise<void>;
}

export async function createVersionServing(d: {
  config: Config;
  storage: Storage;
  log: Logger;
  /** The config's pipelines, already built (reused for their versions). */
  pipelines: ReadonlyMap<string, Pipeline>;
  buildPipeline(cfg: PipelineConfig): Pipeline;
}): Promise<VersionServing> {
  const { config, storage, log } = d;
  const aliases = new Set(["extractive", "sim", ...config.models.map((m) => m.name)]);
  let versioned: VersionedPipelines | undefined;
  const forget = () => versioned?.forget();
  const registry = new RegistryService(storage.registry, { hasRoute: (r) => aliases.has(r) }, forget);
  const rollouts = new RolloutService(registry, storage.rollouts, log);
  rollouts.onChange(forget);
  const prices = new PriceTable(config.pricing);
  const cost = (served: { priceKey: { provider: string; model: string } | undefined; servedBy: string; cache: string }, usage: { prompt_tokens: number; completion_tokens: number } | undefined) =>
    usage && !servedFromCache(served) ? prices.cost(prices.priceOf(served.priceKey?.provider, served.priceKey?.model, served.servedBy), usage.prompt_tokens, usage.completion_tokens) : 0;
  const shadow = new ShadowRunner(rollouts, cost, log);
  const seeded = await registry.seedPipelines(config.pipelines, log);
  versioned = new VersionedPipelines({ registry, rollouts, shadow, build: d.buildPipeline, cost, log });
  for (const s of seeded) {
    const built = d.pipelines.get(s.name);
    if (built) versioned.prime(s.hash, built);
  }
  await versioned.start();
  return {
    registry,
    rollouts,
    versioned,
    shadow,
    async close() {
      const timeout = new Promise<void>((r) => setTimeout(r, 5_000).unref());
      await Promise.race([shadow.idle(), timeout]);
    },
  };
}
