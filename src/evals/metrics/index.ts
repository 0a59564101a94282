// Every metric for one item and its answer.
import type { EvalItem, EvalResponse } from "../types.js";
import { groundedness } from "./grounding.js";
import { ndcgAtK, recallAtK, reciprocalRank, retrievedIds } from "./retrieval.js";
import { containsAll, exactMatch, factRecall, jsonValid, regexMatch, tokenF1 } from "./text.js";
import { usageMetrics, type PriceTable } from "./usage.js";

export * from "./text.js";
export * from "./retrieval.js";
export * from "./grounding.js";
export * from "./usage.js";

export interface ScoreOptions {
  /** k for recall@k and nDCG@k (default 5). */
  k?: number;
  prices?: PriceTable;
  /** The model name as sent (for the price table). */
  model?: string;
}

/** Metrics whose higher values are better (the rest, latency/tokens/cost/error, are lower-is-better). */
export const QUALITY_METRICS = ["exact_match", "token_f1", "contains", "fact_recall", "regex", "json_valid", "recall_at_k", "mrr", "ndcg_at_k", "groundedness"] as const;

/**
 * Scores one answer. A metric is present only when the item asks for it
 * (expected → exact_match/token_f1; facts → contains/fact_recall; regex; json;
 * relevant_ids → recall_at_k/mrr/ndcg_at_k; citations → groundedness).
 * `error` is 1 when the call failed (its quality metrics score the empty answer).
 */
export function scoreItem(item: EvalItem, res: EvalResponse & { error?: string }, opts: ScoreOptions = {}): Record<string, number> {
  const k = opts.k ?? 5;
  const out = res.error ? "" : res.output;
  const m: Record<string, number> = {};
  if (item.expected !== undefined) {
    m.exact_match = exactMatch(out, item.expected);
    m.token_f1 = tokenF1(out, item.expected);
  }
  if (item.facts && item.facts.length > 0) {
    m.contains = containsAll(out, item.facts);
    m.fact_recall = factRecall(out, item.facts);
  }
  if (item.regex !== undefined) m.regex = regexMatch(out, item.regex);
  if (item.json) m.json_valid = jsonValid(out);
  if (item.relevant_ids && item.relevant_ids.length > 0) {
    const ids = res.error ? [] : retrievedIds(res.citations, item.relevant_ids);
    m.recall_at_k = recallAtK(ids, item.relevant_ids, k);
    m.mrr = reciprocalRank(ids, item.relevant_ids);
    m.ndcg_at_k = ndcgAtK(ids, item.relevant_ids, k);
  }
  if (!res.error) {
    const g = groundedness(out, res.citations);
    if (g !== undefined) m.groundedness = g;
  }
  Object.assign(m, usageMetrics(res.latencyMs, res.error ? undefined : res.usage, opts.model ?? "", opts.prices));
  m.error = res.error ? 1 : 0;
  return m;
}
