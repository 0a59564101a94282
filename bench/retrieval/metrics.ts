// Ranking metrics with binary relevance.

export function ndcgAt(ranked: readonly string[], rel: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((d, i) => { if (rel.has(d)) dcg += 1 / Math.log2(i + 2); });
  let idcg = 0;
  for (let i = 0; i < Math.min(k, rel.size); i++) idcg += 1 / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

/** Average precision over the ranked list (normalised by all relevant docs). */
export function averagePrecision(ranked: readonly string[], rel: ReadonlySet<string>): number {
  let hits = 0;
  let sum = 0;
  ranked.forEach((d, i) => { if (rel.has(d)) { hits++; sum += hits / (i + 1); } });
  return rel.size === 0 ? 0 : sum / rel.size;
}

export function recallAt(ranked: readonly string[], rel: ReadonlySet<string>, k: number): number {
  const found = ranked.slice(0, k).filter((d) => rel.has(d)).length;
  return rel.size === 0 ? 0 : found / rel.size;
}

export function reciprocalRankAt(ranked: readonly string[], rel: ReadonlySet<string>, k: number): number {
  const i = ranked.slice(0, k).findIndex((d) => rel.has(d));
  return i < 0 ? 0 : 1 / (i + 1);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

export const mean = (v: readonly number[]): number => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0);
