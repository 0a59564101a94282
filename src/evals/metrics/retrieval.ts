// Retrieval metrics: the ids cited by an answer (`stratum.citations[]`,
// chunk_id or document_id) against the item's relevant_ids. Binary relevance.
import type { CitationLike } from "../types.js";

/**
 * The ranked ids retrieved for an answer, deduplicated in citation order. An id
 * counts when either the chunk_id or the document_id matches, so datasets may
 * name documents or chunks: each citation yields the id found in `relevant`
 * (else its chunk_id, else document_id).
 */
export function retrievedIds(citations: readonly CitationLike[], relevant: readonly string[] = []): string[] {
  const rel = new Set(relevant);
  const out: string[] = [];
  for (const c of citations) {
    const id = (c.chunk_id && rel.has(c.chunk_id) ? c.chunk_id : undefined) ?? (c.document_id && rel.has(c.document_id) ? c.document_id : undefined) ?? c.chunk_id ?? c.document_id;
    if (id && !out.includes(id)) out.push(id);
  }
  return out;
}

/** Share of the relevant ids found in the top k. No relevant ids → 1 (nothing to find). */
export function recallAtK(retrieved: readonly string[], relevant: readonly string[], k: number): number {
  const rel = new Set(relevant);
  if (rel.size === 0) return 1;
  const top = new Set(retrieved.slice(0, k));
  let hit = 0;
  for (const r of rel) if (top.has(r)) hit++;
  return hit / rel.size;
}

/** Reciprocal rank of the first relevant id (0 when none is retrieved). */
export function reciprocalRank(retrieved: readonly string[], relevant: readonly string[]): number {
  const rel = new Set(relevant);
  const i = retrieved.findIndex((r) => rel.has(r));
  return i < 0 ? 0 : 1 / (i + 1);
}

/** nDCG@k with binary gains: DCG = Σ rel_i / log2(i + 2), normalised by the ideal ranking. */
export function ndcgAtK(retrieved: readonly string[], relevant: readonly string[], k: number): number {
  const rel = new Set(relevant);
  if (rel.size === 0) return 1;
  let dcg = 0;
  retrieved.slice(0, k).forEach((r, i) => {
    if (rel.has(r)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, rel.size); i++) ideal += 1 / Math.log2(i + 2);
  return dcg / ideal;
}
