// The reference baseline, recomputed here to check our evaluation conventions
// against the published figure: plain BM25 (k1 0.9, b 0.4), lowercase word
// tokens, no stemming, no stopwords, over title + text.

const tokens = (s: string): string[] => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

export function plainBm25(docs: ReadonlyArray<{ id: string; title: string; text: string }>, k1 = 0.9, b = 0.4) {
  const tfs = docs.map((d) => {
    const m = new Map<string, number>();
    const t = tokens(`${d.title} ${d.text}`);
    for (const w of t) m.set(w, (m.get(w) ?? 0) + 1);
    return { id: d.id, tf: m, len: t.length };
  });
  const df = new Map<string, number>();
  for (const d of tfs) for (const w of d.tf.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const avg = tfs.reduce((a, d) => a + d.len, 0) / tfs.length;
  const n = tfs.length;
  return (query: string, k: number): string[] => {
    const q = [...new Set(tokens(query))];
    const scored = tfs.map((d) => {
      let s = 0;
      for (const w of q) {
        const f = d.tf.get(w);
        if (!f) continue;
        const dfw = df.get(w)!;
        s += Math.log(1 + (n - dfw + 0.5) / (dfw + 0.5)) * (f * (k1 + 1)) / (f + k1 * (1 - b + (b * d.len) / avg));
      }
      return { id: d.id, s };
    });
    return scored.filter((x) => x.s > 0).sort((a, b) => b.s - a.s).slice(0, k).map((x) => x.id);
  };
}
