// Recalls long-term facts about an end user for the system prompt.
import type { MemoryFact, MemoryStore } from "./types.js";

export interface RecallOptions {
  /** Most facts returned (default 5). */
  k?: number;
  /** Lowest score kept, in [0, 1] (default 0.3). */
  minScore?: number;
  /** Longest fact text shown (default 500 characters). */
  maxFactChars?: number;
}

export const FACTS_HEADER = "Known facts about the user:";

/** Facts relevant to `query`, best first. */
export async function recallFacts(store: MemoryStore, tenant: string, user: string, query: string, opts: RecallOptions = {}): Promise<MemoryFact[]> {
  const k = opts.k ?? 5;
  const minScore = opts.minScore ?? 0.3;
  if (k <= 0 || !query.trim()) return [];
  const hits = await store.search(tenant, user, query, k);
  return hits.filter((h) => h.score >= minScore).map((h) => h.fact);
}

/** "Known facts about the user:\n- ..." or "" when no fact is relevant. */
export async function recallMemory(store: MemoryStore, tenant: string, user: string, query: string, opts: RecallOptions = {}): Promise<string> {
  return formatFacts(await recallFacts(store, tenant, user, query, opts), opts.maxFactChars);
}

export function formatFacts(facts: readonly MemoryFact[], maxFactChars = 500): string {
  // One line per fact: stored text must not be able to open new sections of the prompt.
  const lines = facts
    .map((f) => f.text.replace(/\s+/g, " ").trim())
    .filter((t) => t.length > 0)
    .map((t) => `- ${t.length > maxFactChars ? t.slice(0, maxFactChars) + "…" : t}`);
  return lines.length ? `${FACTS_HEADER}\n${lines.join("\n")}` : "";
}

/** The same, bound to one store and options. */
export class MemoryRecall {
  constructor(private readonly store: MemoryStore, private readonly opts: RecallOptions = {}) {}
  facts(tenant: string, user: string, query: string): Promise<MemoryFact[]> {
    return recallFacts(this.store, tenant, user, query, this.opts);
  }
  recall(tenant: string, user: string, query: string): Promise<string> {
    return recallMemory(this.store, tenant, user, query, this.opts);
  }
}
