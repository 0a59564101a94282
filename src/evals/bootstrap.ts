// Bootstrap confidence intervals with a seeded PRNG (reproducible).

import { seededRandom } from "../core/seeded-random.js";

export { seededRandom };

export interface BootstrapOptions {
  /** Default 2000. */
  resamples?: number;
  /** Default 0.95. */
  confidence?: number;
  /** Default 1. */
  seed?: number;
}

export interface Interval {
  /** The observed statistic (mean, or mean difference). */
  mean: number;
  low: number;
  high: number;
  n: number;
  confidence: number;
}

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

/** Percentile (linear interpolation) of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Percentile bootstrap CI of the mean of `values`. */
export function bootstrapMean(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  const resamples = opts.resamples ?? 2000;
  const confidence = opts.confidence ?? 0.95;
  const n = values.length;
  const m = mean(values);
  if (n === 0) return { mean: NaN, low: NaN, high: NaN, n, confidence };
  const rnd = seededRandom(opts.seed ?? 1);
  const stats = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += values[Math.floor(rnd() * n)]!;
    stats[r] = s / n;
  }
  stats.sort((x, y) => x - y);
  const alpha = (1 - confidence) / 2;
  return { mean: m, low: quantile(stats, alpha), high: quantile(stats, 1 - alpha), n, confidence };
}

/**
 * Paired bootstrap CI of mean(b − a) over the same items: a[i] and b[i] are
 * one item's scores in run A and run B. Resamples items (pairs) with replacement.
 */
export function pairedBootstrap(a: readonly number[], b: readonly number[], opts: BootstrapOptions = {}): Interval {
  if (a.length !== b.length) throw new Error(`paired bootstrap needs equal lengths (${a.length} vs ${b.length})`);
  return bootstrapMean(
    a.map((x, i) => b[i]! - x),
    opts,
  );
}
