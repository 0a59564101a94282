// The drift statistics, pure: PSI over bins fixed from the reference window's
// quantiles, categorical PSI, the two-sample Kolmogorov–Smirnov D with its
// asymptotic p-value, and the summary (n, mean, p50, p95) the API reports.

/** Share given to an empty bin so ln(p/q) stays finite (PSI's usual smoothing). */
export const PSI_EPSILON = 1e-4;

export interface Summary {
  n: number;
  mean: number | null;
  p50: number | null;
  p95: number | null;
}

export interface KsResult {
  /** sup |F_ref(x) − F_cur(x)| over all x. */
  d: number;
  /** Asymptotic p-value: Q_KS(sqrt(n·m/(n+m)) · D), the Kolmogorov distribution's survival function. */
  p_value: number;
}

/** The q-quantile of a sorted sample as the inverse empirical CDF: the smallest x with F(x) ≥ q. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const i = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sorted[i]!;
}

export function sortedCopy(xs: ArrayLike<number>): Float64Array {
  return Float64Array.from(xs).sort();
}

export function summarize(xs: ArrayLike<number>): Summary {
  if (xs.length === 0) return { n: 0, mean: null, p50: null, p95: null };
  const s = sortedCopy(xs);
  let sum = 0;
  for (const x of s) sum += x;
  return { n: s.length, mean: sum / s.length, p50: quantileSorted(s, 0.5), p95: quantileSorted(s, 0.95) };
}

/**
 * Bin edges from the reference sample's quantiles at 1/bins … (bins−1)/bins,
 * ties removed (a constant reference gives one edge: two bins). A value x
 * falls in the first bin whose edge is ≥ x; above the last edge is the last bin.
 */
export function quantileEdges(reference: ArrayLike<number>, bins: number): number[] {
  const s = sortedCopy(reference);
  if (s.length === 0) return [];
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileSorted(s, i / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]!) edges.push(e);
  }
  return edges;
}

/** Counts of `xs` per bin of `edges` (edges.length + 1 bins). */
export function binCounts(xs: ArrayLike<number>, edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (let k = 0; k < xs.length; k++) {
    const x = xs[k]!;
    // Binary search: the first edge ≥ x.
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid]! >= x) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]!++;
  }
  return counts;
}

/** PSI = Σ (c_i − r_i) · ln(c_i / r_i) over shares, an empty share counted as `epsilon`. */
export function psiFromCounts(reference: readonly number[], current: readonly number[], epsilon = PSI_EPSILON): number {
  const rn = reference.reduce((a, b) => a + b, 0);
  const cn = current.reduce((a, b) => a + b, 0);
  if (rn === 0 || cn === 0) return NaN;
  let psi = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = Math.max(reference[i]! / rn, epsilon);
    const c = Math.max((current[i] ?? 0) / cn, epsilon);
    psi += (c - r) * Math.log(c / r);
  }
  return psi;
}

/** PSI of a numeric signal over `bins` quantile bins of the reference. */
export function psi(reference: ArrayLike<number>, current: ArrayLike<number>, bins = 10, epsilon = PSI_EPSILON): number {
  const edges = quantileEdges(reference, bins);
  return psiFromCounts(binCounts(reference, edges), binCounts(current, edges), epsilon);
}

/** PSI of a categorical signal: each category is a bin (categories missing on one side count as `epsilon`). */
export function categoricalPsi(reference: ReadonlyMap<string, number>, current: ReadonlyMap<string, number>, epsilon = PSI_EPSILON): number {
  const cats = [...new Set([...reference.keys(), ...current.keys()])];
  return psiFromCounts(
    cats.map((c) => reference.get(c) ?? 0),
    cats.map((c) => current.get(c) ?? 0),
    epsilon,
  );
}

/** Two-sample KS statistic D: walks both sorted samples, stepping over ties together. */
export function ksStatistic(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const x = sortedCopy(a);
  const y = sortedCopy(b);
  const n = x.length;
  const m = y.length;
  if (n === 0 || m === 0) return NaN;
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n && j < m) {
    const v = Math.min(x[i]!, y[j]!);
    while (i < n && x[i]! <= v) i++;
    while (j < m && y[j]! <= v) j++;
    d = Math.max(d, Math.abs(i / n - j / m));
  }
  return d;
}

/** Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2 j² λ²}; 1 for small λ where the series is slow and the value ≈ 1. */
export function kolmogorovSurvival(lambda: number): number {
  if (!(lambda > 0)) return 1;
  if (lambda < 0.2) return 1; // Q_KS(0.2) = 1 − 2.7e-19
  let sum = 0;
  for (let j = 1; j <= 100; j++) {
    const term = Math.exp(-2 * j * j * lambda * lambda);
    sum += j % 2 === 1 ? term : -term;
    if (term < 1e-16) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

export function ksTest(a: ArrayLike<number>, b: ArrayLike<number>): KsResult {
  const d = ksStatistic(a, b);
  if (Number.isNaN(d)) return { d: NaN, p_value: NaN };
  const n = a.length;
  const m = b.length;
  return { d, p_value: kolmogorovSurvival(Math.sqrt((n * m) / (n + m)) * d) };
}
