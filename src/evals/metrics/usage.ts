// Latency, tokens and cost of an answer.
import type { Usage } from "../types.js";

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

/** Model name (as sent, e.g. "assistant" or "gpt-4o@2") → price; "*" is the default. */
export type PriceTable = Record<string, ModelPrice>;

export function priceFor(prices: PriceTable | undefined, model: string): ModelPrice | undefined {
  if (!prices) return undefined;
  return prices[model] ?? prices[model.split("@")[0]!] ?? prices["*"];
}

/** Cost in USD; undefined without usage or without a price for the model. */
export function costUsd(usage: Usage | undefined, model: string, prices?: PriceTable): number | undefined {
  const p = priceFor(prices, model);
  if (!usage || !p) return undefined;
  return (usage.prompt_tokens * p.input + usage.completion_tokens * p.output) / 1_000_000;
}

export function usageMetrics(latencyMs: number, usage: Usage | undefined, model: string, prices?: PriceTable): Record<string, number> {
  const m: Record<string, number> = { latency_ms: latencyMs };
  if (usage) {
    m.prompt_tokens = usage.prompt_tokens;
    m.completion_tokens = usage.completion_tokens;
    m.total_tokens = usage.total_tokens;
  }
  const c = costUsd(usage, model, prices);
  if (c !== undefined) m.cost_usd = c;
  return m;
}
