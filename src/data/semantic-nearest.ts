/**
 * The entry whose vector has the highest dot product with `vector` (cosine
 * similarity, all vectors being unit length), if at least `minScore`. Entries
 * of another dimension are skipped (the embedding model changed).
 */
export function nearestOf<E>(entries: Iterable<E>, vectorOf: (e: E) => Float32Array, vector: Float32Array, minScore: number): { entry: E; score: number } | undefined {
  let best: E | undefined;
  let bestScore = -Infinity;
  for (const e of entries) {
    const v = vectorOf(e);
    if (v.length !== vector.length) continue;
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i]! * vector[i]!;
    if (dot > bestScore) {
      bestScore = dot;
      best = e;
    }
  }
  return best !== undefined && bestScore >= minScore ? { entry: best, score: bestScore } : undefined;
}
