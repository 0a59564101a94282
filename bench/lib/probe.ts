// A sequential node:http client on one keep-alive connection: per request,
// the time to the response headers, to the first body byte and to the end,
// with performance.now() (sub-millisecond; autocannon's histograms are whole ms).
import http from "node:http";
import { percentile } from "./stats.js";

export interface Target {
  url: string;
  path: string;
  headers: Record<string, string>;
}

export interface ProbeResult {
  n: number;
  errors: number;
  /** Milliseconds: p50/p99 to the first body byte and to the end of the response. */
  ttfbP50: number;
  ttfbP99: number;
  totalP50: number;
  totalP99: number;
}

interface One {
  ttfb: number;
  total: number;
  ok: boolean;
}

function once(agent: http.Agent, t: Target, body: string): Promise<One> {
  const u = new URL(t.url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let ttfb = NaN;
    const req = http.request(
      {
        agent,
        host: u.hostname,
        port: u.port,
        method: "POST",
        path: t.path,
        headers: { ...t.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let tail = "";
        res.on("data", (c: Buffer) => {
          if (Number.isNaN(ttfb)) ttfb = performance.now() - t0;
          tail = (tail + c.toString("latin1")).slice(-32);
        });
        res.on("end", () => {
          const total = performance.now() - t0;
          const stream = String(res.headers["content-type"] ?? "").startsWith("text/event-stream");
          resolve({ ttfb, total, ok: res.statusCode === 200 && (!stream || tail.includes("[DONE]")) });
        });
        res.on("error", () => resolve({ ttfb, total: NaN, ok: false }));
      },
    );
    req.on("error", () => resolve({ ttfb, total: NaN, ok: false }));
    req.end(body);
  });
}

export interface ProbeSamples {
  ttfb: number[];
  total: number[];
  errors: number;
}

/** `warmup` unrecorded requests, then `n` recorded ones, strictly one at a time, added to `into`. */
export async function probe(t: Target, body: string, n: number, warmup: number, into: ProbeSamples = { ttfb: [], total: [], errors: 0 }): Promise<ProbeSamples> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    for (let i = 0; i < warmup; i++) await once(agent, t, body);
    for (let i = 0; i < n; i++) {
      const r = await once(agent, t, body);
      if (!r.ok) {
        into.errors++;
        continue;
      }
      into.ttfb.push(r.ttfb);
      into.total.push(r.total);
    }
    return into;
  } finally {
    agent.destroy();
  }
}

export function summarize(s: ProbeSamples): ProbeResult {
  return {
    n: s.total.length + s.errors,
    errors: s.errors,
    ttfbP50: percentile(s.ttfb, 50),
    ttfbP99: percentile(s.ttfb, 99),
    totalP50: percentile(s.total, 50),
    totalP99: percentile(s.total, 99),
  };
}
