// Rates and quantiles from two successive /v1/stats snapshots: counters and
// histogram buckets are cumulative, so an interval's numbers are differences.
export interface StatsSample {
  labels: Record<string, string | number>;
  value: number;
  metric?: string;
}
export interface StatsMetric {
  name: string;
  type: string;
  values: StatsSample[];
}
export interface Snapshot {
  at: number;
  in_flight: number;
  metrics: StatsMetric[];
}

export type LabelFilter = (labels: Record<string, string | number>) => boolean;
const all: LabelFilter = () => true;

function samples(s: Snapshot, name: string): StatsSample[] {
  return s.metrics.find((m) => m.name === name)?.values ?? [];
}

/** Sum of a counter's (or gauge's) samples that pass the filter. */
export function total(s: Snapshot, name: string, filter: LabelFilter = all): number {
  let sum = 0;
  for (const v of samples(s, name)) if (!v.metric && filter(v.labels)) sum += v.value;
  return sum;
}

/** Sums grouped by one label. */
export function totalsBy(s: Snapshot, name: string, label: string, filter: LabelFilter = all): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of samples(s, name)) {
    if (v.metric || !filter(v.labels)) continue;
    const k = String(v.labels[label] ?? "");
    out.set(k, (out.get(k) ?? 0) + v.value);
  }
  return out;
}

/** Increase of a counter between two snapshots (a restart resets counters: then the new value). */
export function increase(prev: Snapshot, cur: Snapshot, name: string, filter: LabelFilter = all): number {
  const d = total(cur, name, filter) - total(prev, name, filter);
  return d < 0 ? total(cur, name, filter) : d;
}

export function increaseBy(prev: Snapshot, cur: Snapshot, name: string, label: string, filter: LabelFilter = all): Map<string, number> {
  const a = totalsBy(prev, name, label, filter);
  const out = new Map<string, number>();
  for (const [k, v] of totalsBy(cur, name, label, filter)) out.set(k, Math.max(0, v - (a.get(k) ?? 0)));
  return out;
}

/** Cumulative bucket counts by upper bound (label sets summed). */
function buckets(s: Snapshot, name: string, filter: LabelFilter): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of samples(s, name)) {
    if (!v.metric?.endsWith("_bucket") || !filter(v.labels)) continue;
    const le = v.labels.le === "+Inf" ? Infinity : Number(v.labels.le);
    out.set(le, (out.get(le) ?? 0) + v.value);
  }
  return out;
}

/**
 * Quantiles (seconds) of the observations made between two snapshots, by
 * linear interpolation inside the bucket (as Prometheus' histogram_quantile).
 * null when nothing was observed.
 */
export function quantiles(prev: Snapshot, cur: Snapshot, name: string, qs: number[], filter: LabelFilter = all): Array<number | null> {
  const a = buckets(prev, name, filter);
  const b = [...buckets(cur, name, filter)].sort((x, y) => x[0] - y[0]);
  const cum = b.map(([le, c]) => [le, Math.max(0, c - (a.get(le) ?? 0))] as const);
  const count = cum.at(-1)?.[1] ?? 0;
  if (count === 0) return qs.map(() => null);
  return qs.map((q) => {
    const rank = q * count;
    let lower = 0;
    let below = 0;
    for (const [le, c] of cum) {
      if (c >= rank) {
        if (le === Infinity) return lower; // beyond the last bound: report the bound
        const inBucket = c - below;
        return inBucket > 0 ? lower + ((le - lower) * (rank - below)) / inBucket : le;
      }
      lower = le;
      below = c;
    }
    return lower;
  });
}
