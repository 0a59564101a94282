// Model aliases resolved to live deployments (provider instance + breaker +
// bulkhead + timeouts), and the fallback chain of each alias.
import type { Config, RetryConfig } from "../../config/schema.js";
import type { ChatProvider } from "../provider.js";
import { Bulkhead } from "./bulkhead.js";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker.js";

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
  timeouts: { connectMs: number; firstTokenMs: number; totalMs: number };
}

interface AliasEntry {
  name: string;
  deployments: Deployment[];
  fallbacks: string[];
  extractiveFallback: boolean;
  embeddings: boolean;
}

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
          timeouts: { ...config.router.timeouts, ...dc.timeouts },
        } satisfies Deployment;
      });
      this.aliases.set(m.name, {
        name: m.name,
        deployments,
        fallbacks: m.fallbacks,
        extractiveFallback: m.extractiveFallback,
        embeddings: m.embeddings || deployments.some((d) => d.provider.embed !== undefined),
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

  /** Deployments of an alias in weighted-random order (weighted sampling without replacement). */
  pickOrder(alias: string, random: () => number = Math.random): Deployment[] {
    const ds = this.aliases.get(alias)?.deployments ?? [];
    if (ds.length <= 1) return ds;
    const pool = [...ds];
    const out: Deployment[] = [];
    while (pool.length) {
      let total = 0;
      for (const d of pool) total += d.weight;
      let r = random() * total;
      let i = 0;
      for (; i < pool.length - 1; i++) {
        r -= pool[i]!.weight;
        if (r < 0) break;
      }
      out.push(pool.splice(i, 1)[0]!);
    }
    return out;
  }
}
