// Model aliases resolved to live deployments (provider instance + breaker +
// bulkhead + retry budget + timeouts), and the fallback chain of each alias.
import type { Config, ModelAliasConfig, RetryConfig } from "../../config/schema.js";
import type { ChatRequest } from "../../protocol/openai.js";
import type { ChatProvider } from "../provider.js";
import { Bulkhead } from "./bulkhead.js";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker.js";
import { scoreComplexity } from "./complexity.js";
import { RecentLatency } from "./recent-latency.js";
import { RetryBudget } from "./retry-budget.js";

export interface Deployment {
  /** Stable id used in metrics, logs and errors: `alias/provider:model`. */
  id: string;
  alias: string;
  providerName: string;
  model: string;
  weight: number;
  provider: ChatProvider;
  breaker: CircuitBreaker;
  bulkhead: Bulkhead;
  retryBudget: RetryBudget;
  timeouts: { connectMs: number; firstTokenMs: number; totalMs: number };
  /** `provider` and `model` for the price table (one object per deployment, handed out with every answer). */
  priceKey: { provider: string; model: string };
  /** For complexity routing. */
  tier: "simple" | "complex" | undefined;
  /** Recent time to first response of successful chat attempts; kept only under latency routing. */
  latency: RecentLatency | undefined;
}

interface AliasEntry {
  name: string;
  deployments: Deployment[];
  fallbacks: string[];
  extractiveFallback: boolean;
  embeddings: boolean;
  routing: ModelAliasConfig["routing"];
  complexityThreshold: number;
}

/** What complexity routing reads of a request. */
export type RoutedRequest = Pick<ChatRequest, "messages" | "tools" | "response_format">;

/** The built-in extractive alias; the last resort of every fallback chain that allows it. */
export const EXTRACTIVE_ALIAS = "extractive";

export class RouteTable {
  private readonly aliases = new Map<string, AliasEntry>();
  readonly retry: RetryConfig;

  constructor(
    config: Pick<Config, "models" | "router">,
    providers: ReadonlyMap<string, ChatProvider>,
    onCircuitChange: (deploymentId: string, state: CircuitState) => void = () => {},
  ) {
    this.retry = config.router.retry;
    for (const m of config.models) {
      const deployments = m.deployments.map((dc) => {
        const provider = providers.get(dc.provider);
        if (!provider) throw new Error(`models.${m.name}: provider "${dc.provider}" is not configured`);
        const model = dc.model ?? m.name;
        const id = `${m.name}/${dc.provider}:${model}`;
        return {
          id,
          alias: m.name,
          providerName: dc.provider,
          model,
          weight: dc.weight,
          provider,
          breaker: new CircuitBreaker(config.router.circuitBreaker, (s) => onCircuitChange(id, s)),
          bulkhead: new Bulkhead(dc.maxConcurrent ?? Infinity),
          retryBudget: new RetryBudget(config.router.retry.budget),
          timeouts: { ...config.router.timeouts, ...dc.timeouts },
          priceKey: Object.freeze({ provider: dc.provider, model }),
          tier: dc.tier,
          latency: m.routing === "latency" ? new RecentLatency() : undefined,
        } satisfies Deployment;
      });
      this.aliases.set(m.name, {
        name: m.name,
        deployments,
        fallbacks: m.fallbacks,
        extractiveFallback: m.extractiveFallback,
        embeddings: m.embeddings || deployments.some((d) => d.provider.embed !== undefined),
        routing: m.routing,
        complexityThreshold: m.complexityThreshold,
      });
    }
  }

  has(alias: string): boolean {
    return this.aliases.has(alias);
  }

  /** Whether any deployment of the alias (or a fallback) can embed. */
  servesEmbeddings(alias: string): boolean {
    return this.chain(alias, "embed").some((a) => this.aliases.get(a)!.embeddings);
  }

  /** Whether the alias's primary deployment is a language model (not extractive or sim). */
  isGenerative(alias: string): boolean {
    const type = this.aliases.get(alias)?.deployments[0]?.provider.type;
    return type !== undefined && type !== "extractive" && type !== "sim";
  }

  names(): string[] {
    return [...this.aliases.keys()];
  }

  deployments(): Deployment[] {
    return [...this.aliases.values()].flatMap((a) => a.deployments);
  }

  /** Aliases to try in order: the alias, its fallbacks, then extractive (chat only). */
  chain(alias: string, kind: "chat" | "embed"): string[] {
    const entry = this.aliases.get(alias);
    if (!entry) return [];
    const out = [alias];
    for (const f of entry.fallbacks) if (this.aliases.has(f) && !out.includes(f)) out.push(f);
    if (kind === "chat" && entry.extractiveFallback && this.aliases.has(EXTRACTIVE_ALIAS) && !out.includes(EXTRACTIVE_ALIAS)) {
      out.push(EXTRACTIVE_ALIAS);
    }
    return out;
  }

  /**
   * Deployments of an alias in the order to try them, by the alias's `routing`: weighted-random;
   * weighted-random with weights divided by recent latency; or, for a chat request, the tier its
   * complexity score asks for first (weighted-random within each tier).
   */
  pickOrder(alias: string, req?: RoutedRequest, random: () => number = Math.random): Deployment[] {
    const entry = this.aliases.get(alias);
    const ds = entry?.deployments ?? [];
    if (!entry || ds.length <= 1) return ds;
    if (entry.routing === "latency") return weightedOrder(ds, latencyWeights(ds), random);
    if (entry.routing === "complexity" && req) {
      const tier = scoreComplexity(req) >= entry.complexityThreshold ? "complex" : "simple";
      const first = ds.filter((d) => d.tier === tier);
      const rest = ds.filter((d) => d.tier !== tier);
      return [...weightedOrder(first, first.map((d) => d.weight), random), ...weightedOrder(rest, rest.map((d) => d.weight), random)];
    }
    return weightedOrder(ds, ds.map((d) => d.weight), random);
  }
}

/** Weighted sampling without replacement. */
function weightedOrder(ds: Deployment[], weights: number[], random: () => number): Deployment[] {
  if (ds.length <= 1) return ds;
  const pool = ds.map((d, i) => ({ d, w: weights[i]! }));
  const out: Deployment[] = [];
  while (pool.length) {
    let total = 0;
    for (const p of pool) total += p.w;
    let r = random() * total;
    let i = 0;
    for (; i < pool.length - 1; i++) {
      r -= pool[i]!.w;
      if (r < 0) break;
    }
    out.push(pool.splice(i, 1)[0]!.d);
  }
  return out;
}

/**
 * Weight / recent latency. A deployment without a success yet counts as fast as the fastest
 * (so it is tried and measured); with none measured, the weights stand as they are.
 */
function latencyWeights(ds: Deployment[]): number[] {
  let fastest = Infinity;
  for (const d of ds) if (d.latency?.value !== undefined) fastest = Math.min(fastest, d.latency.value);
  if (fastest === Infinity) return ds.map((d) => d.weight);
  // A floor of 0.1 ms: sub-millisecond figures of a loopback upstream are noise, not a 10x difference.
  return ds.map((d) => d.weight / Math.max(0.1, d.latency?.value ?? fastest));
}
