// Percentiles and number formatting.

/** Percentile (0-100) of unsorted samples, by nearest rank. */
export function percentile(samples: ArrayLike<number>, p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples as ArrayLike<number>).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Least-squares slope of y over x. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

export const fmt = {
  int: (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-"),
  ms: (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "-"),
  ratio: (n: number) => (Number.isFinite(n) ? `${n.toFixed(2)}x` : "-"),
  mib: (n: number) => (Number.isFinite(n) ? n.toFixed(1) : "-"),
  signedMs: (n: number) => (Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(3)}` : "-"),
};

/** A plain-text table: first row is the header; numbers right-aligned. */
export function table(rows: string[][], indent = "  "): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const line = (r: string[]) =>
    indent +
    r
      .map((c, i) => (i === 0 || !/^[-+\d.,x%]+$|^-$/.test(c) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  const [head, ...body] = rows;
  const sep = indent + widths.map((w) => "-".repeat(w)).join("  ");
  return [line(head!), sep, ...body.map(line)].join("\n");
}
