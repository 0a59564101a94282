// Bounds how far V8's old generation grows between full GCs, for a server
// process (config `server.heapGrowthPercent`; off by default). Under load a
// gateway promotes a little of every request that is in flight across two
// young-generation GCs (~1 KB a request), and V8 lets that garbage pile up to
// ~4x the live heap before it marks: with ~35 MiB live, 100+ MiB of old space
// is dead requests. Measured at 50 connections in the same minutes against
// V8's own factor (bench:compare, tracing on): 50 % kept the peak RSS at 198
// instead of 290 MiB, for +1.5 % CPU per JSON request and +12 % per streamed
// one; 100 %: 215 vs 273 MiB, +7 % per streamed request; 200 %: no difference.
//
// V8 reads this flag each time it sets the next GC limit, so setting it at run
// time works (heap-growth.test.ts checks that it does). It is process-wide:
// only the process owner (`stratum serve`, the bench) calls this.
import { setFlagsFromString } from "node:v8";

/** `percent` 0 is V8's own adaptive factor (the flag's default). */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 0) throw new RangeError(`heap growth must be a whole percent >= 0 (got ${percent})`);
  setFlagsFromString(`--heap-growing-percent=${percent}`);
}
