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
  const kept: (F & Located)[] = [];
  for (const f of ranked) {
    if (kept.some((k) => f.start < k.end && k.start < f.end)) continue;
    kept.push(f);
  }
  kept.sort((a, b) => a.start - b.start);
  return [...kept, ...rest];
}
