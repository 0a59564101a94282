// Maximal marginal relevance (Carbonell & Goldstein 1998): pick greedily the
// candidate maximising λ·relevance − (1−λ)·max similarity to those already
// picked, so near-duplicate chunks do not fill the top k.

export interface MmrCandidate {
  id: string;
  /** Relevance, any scale (normalised here: by the max when all ≥ 0, else min-max). */
  score: number;
}

/** Returns candidate ids in MMR order, at most k. `similarity` must be in [0, 1]. */
export function mmr(candidates: readonly MmrCandidate[], k: number, lambda: number, similarity: (a: string, b: string) => number): string[] {
  if (candidates.length === 0 || k <= 0) return [];
  const max = Math.max(...candidates.map((c) => c.score));
  const min = Math.min(...candidates.map((c) => c.score));
  // Dividing by the max keeps the weakest candidate's relevance above 0 (min-max would zero it).
  const rel = (s: number): number => (max === min ? 1 : min >= 0 ? s / max : (s - min) / (max - min));
  const left = [...candidates];
  const picked: string[] = [];
  const maxSim = new Map<string, number>(left.map((c) => [c.id, 0]));
  while (picked.length < k && left.length > 0) {
    let best = 0;
    let bestValue = -Infinity;
    left.forEach((c, i) => {
      const v = lambda * rel(c.score) - (1 - lambda) * maxSim.get(c.id)!;
      if (v > bestValue) { bestValue = v; best = i; }
    });
    const [chosen] = left.splice(best, 1);
    picked.push(chosen!.id);
    for (const c of left) maxSim.set(c.id, Math.max(maxSim.get(c.id)!, similarity(c.id, chosen!.id)));
  }
  return picked;
}

/** Jaccard similarity of two term sets. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let inter = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const t of small) if (large.has(t)) inter++;
  return inter / (a.size + b.size - inter);
}

/** Cosine similarity clamped to [0, 1]. */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! * a[i]!; nb += b[i]! * b[i]!; }
  return na === 0 || nb === 0 ? 0 : Math.max(0, dot / Math.sqrt(na * nb));
}
