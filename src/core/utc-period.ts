// Calendar windows in UTC, the periods budgets are counted over. Every replica
// and store agrees on them because they depend on the clock alone.

export type UtcPeriod = "day" | "month";

export interface UtcWindow {
  /** Inclusive start, ms since the epoch. */
  start: number;
  /** Exclusive end: the next window's start. */
  end: number;
}

const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/** `t` rounded down to a multiple of `unit` (times before 1970 included). */
const floorTo = (t: number, unit: number) => t - (((t % unit) + unit) % unit);

/** The start of the UTC hour that contains `t`. */
export function utcHourStart(t: number): number {
  return floorTo(t, HOUR_MS);
}

/** The UTC day or calendar month that contains `t`. */
export function utcWindow(period: UtcPeriod, t = Date.now()): UtcWindow {
  if (period === "day") {
    const start = floorTo(t, DAY_MS);
    return { start, end: start + DAY_MS };
  }
  const d = new Date(t);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  // Date.UTC rolls month 12 over into January of the next year.
  return { start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
}
