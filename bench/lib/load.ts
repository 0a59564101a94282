// Throughput and latency under load with autocannon (in the parent process).
// Latency percentiles come from autocannon's per-response times (float ms),
// not its whole-millisecond histogram.
import autocannon from "autocannon";
import { percentile } from "./stats.js";
import type { Target } from "./probe.js";

export interface LoadResult {
  connections: number;
  seconds: number;
  /** 2xx responses per second. */
  rps: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
}

/** `body`: the same for every request, or a function called for each one. */
export function load(t: Target, body: string | (() => string), connections: number, seconds: number): Promise<LoadResult> {
  return run(t, body, connections, { duration: seconds });
}

/** Exactly `amount` requests over `connections` (for counts per request, e.g. bench:instructions). */
export function loadCount(t: Target, body: string, connections: number, amount: number): Promise<LoadResult> {
  return run(t, body, connections, { amount });
}

function run(t: Target, body: string | (() => string), connections: number, howLong: { duration: number } | { amount: number }): Promise<LoadResult> {
  const lat: number[] = [];
  return new Promise((resolve, reject) => {
    const inst = autocannon(
      {
        url: new URL(t.path, t.url).href,
        method: "POST",
        ...(typeof body === "string" ? { body } : { requests: [{ setupRequest: (r: object) => ({ ...r, body: body() }) }] }),
        headers: { ...t.headers, "content-type": "application/json" },
        connections,
        ...howLong,
        // Under valgrind a request can take ~100x its native time.
        timeout: "amount" in howLong ? 60 : 10,
      },
      (err, r) => {
        if (err) return reject(err);
        resolve({
          connections,
          seconds: r.duration,
          rps: r["2xx"] / r.duration,
          ok: r["2xx"],
          non2xx: r.non2xx,
          errors: r.errors,
          timeouts: r.timeouts,
          p50: percentile(lat, 50),
          p99: percentile(lat, 99),
        });
      },
    );
    inst.on("response", (_client: unknown, status: number, _bytes: number, ms: number) => {
      if (status >= 200 && status < 300) lat.push(ms);
    });
  });
}
