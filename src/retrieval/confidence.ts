// Confidence that the hits answer the query, in [0, 1].
//
//   idf(t)   = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))       (BM25's IDF, always > 0;
//              a term absent from the collection gets the largest IDF)
//   lexical  = Σ idf(t) over query terms present in the best hit
//              ─────────────────────────────────────────────────
//              Σ idf(t) over all query terms                    (= the best hit's share of the
//                                                                 query's maximum attainable BM25 mass)
//   dense    = clamp((cos − 0.2) / 0.6, 0, 1)                   (best cosine; 0.2 ≈ unrelated, 0.8 ≈ paraphrase)
//   confidence = lexical                       lexical only
//              = 0.6 · lexical + 0.4 · dense    hybrid
//              = dense                         dense only
//
// So a query whose informative (rare) terms do not occur in the collection
// scores low however many common words it shares, and a hit that contains
// every query term scores ~1. Term presence, not raw BM25, keeps the figure
// independent of document length and collection size.

export interface TermStat {
  term: string;
  df: number;
}

export const idf = (n: number, df: number): number => Math.log(1 + (n - df + 0.5) / (df + 0.5));

/** The lexical part: IDF mass of the query terms found in the best hit. */
export function lexicalConfidence(chunks: number, terms: readonly TermStat[], bestHitTerms: ReadonlySet<string>): number {
  let total = 0;
  let found = 0;
  for (const t of terms) {
    const w = idf(chunks, Math.min(t.df, chunks));
    total += w;
    if (bestHitTerms.has(t.term)) found += w;
  }
  return total === 0 ? 0 : found / total;
}

export const denseConfidence = (bestCosine: number): number => Math.min(1, Math.max(0, (bestCosine - 0.2) / 0.6));

export function blendConfidence(lexical: number | undefined, dense: number | undefined): number {
  if (lexical !== undefined && dense !== undefined) return 0.6 * lexical + 0.4 * dense;
  return lexical ?? dense ?? 0;
}
