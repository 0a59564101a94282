// Bounds how far V8's old generation grows between full GCs, for a server
// process (config `server.heapGrowthPercent`, default 20). Under load a
// gateway promotes a little of every request that is in flight across two
// young-generation GCs (~1 KB a request), and V8 lets that garbage pile up to
// ~4x the live heap before it marks: with ~35 MiB live, 100+ MiB of old space
// is dead requests. Measured at 50 connections in the same minutes against
// V8's own factor (bench:compare, tracing on): 50 % kept the peak RSS at 198
// instead of 290 MiB, for +1.5 % CPU per JSON request and +12 % per streamed
// one; 100 %: 215 vs 273 MiB, +7 % per streamed request; 200 %: no difference.
// Since packages that only some configurations need load on first use, the
// live heap is ~20 MiB instead of ~30 and a full GC costs less: 20 %, with
// compactHeap() at the end of start-up, kept the peak at ~155 instead of ~185 MiB
// (tracing off) with no CPU cost that same-minute A/B runs could tell from
// noise (bench/README.md).
//
// V8 reads this flag each time it sets the next GC limit, so setting it at run
// time works (heap-growth.test.ts checks that it does). It is process-wide:
// only the process owner (`stratum serve`, the bench) calls this.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** `percent` 0 is V8's own adaptive factor (the flag's default). */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a whole percent >= 0 (got ${percent})`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * One full GC, once start-up is done (before listening). Start-up leaves garbage behind (config
 * and schema compilation, migrations, the first-start ingest), and until V8
 * has run a full GC of its own choosing after it, it sizes the old generation
 * by its start-up limits: measured, the first full GC under load then came
 * only at 60-80 MiB of old space, with or without a growth limit. After this
 * one the limit follows the real live set. Node has no API for it without
 * --expose-gc, so `gc` is exposed for one throwaway context and the flag is
 * turned off again at once (no later vm context gets it).
 */
export function compactHeap(): void {
  setFlagsFromString("--expose-gc");
  try {
    (runInNewContext("gc") as () => void)();
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}
