// Reciprocal rank fusion (Cormack et al. 2009): score = Σ 1 / (k + rank).
// Rank-based, so BM25 and cosine scores need no common scale.

export const RRF_K = 60;

export function reciprocalRankFusion(lists: ReadonlyArray<ReadonlyArray<{ chunkId: string }>>, k = RRF_K): Array<{ chunkId: string; score: number }> {
  const scores = new Map<string, number>();
  for (const list of lists) {
    list.forEach((h, i) => scores.set(h.chunkId, (scores.get(h.chunkId) ?? 0) + 1 / (k + i + 1)));
  }
  return [...scores].map(([chunkId, score]) => ({ chunkId, score })).sort((a, b) => b.score - a.score);
}
