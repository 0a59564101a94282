import type { Finding } from "../types.js";

type Located = Finding & { start: number; end: number };

/**
 * Keeps non-overlapping findings: highest score first, then the longest span, then the earliest.
 * Returns them ordered by start. Findings without a span are kept as they are (at the end).
 */
export function resolveOverlaps<F extends Finding>(findings: readonly F[]): F[] {
  if (findings.length < 2) return [...findings];
  const located = findings.filter((f): f is F & Located => f.start !== undefined && f.end !== undefined);
  const rest = findings.filter((f) => f.start === undefined || f.end === undefined);
  const ranked = [...located].sort(
    (a, b) => b.score - a.score || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  // `kept` stays sorted by start and non-overlapping, so one binary search finds the neighbours.
  const kept: (F & Located)[] = [];
  for (const f of ranked) {
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid]!.start < f.start) lo = mid + 1;
      else hi = mid;
    }
    const prev = kept[lo - 1];
    const next = kept[lo];
    if ((prev !== undefined && prev.end > f.start) || (next !== undefined && next.start < f.end)) continue;
    kept.splice(lo, 0, f);
  }
  return [...kept, ...rest];
}
