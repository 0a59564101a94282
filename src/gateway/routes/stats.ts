// GET /v1/stats (admin): a JSON snapshot of the Prometheus registry for the
// console's live metrics. Counters and histogram buckets are cumulative; the
// console derives rates and quantiles from the difference of two polls, so
// the server keeps no time series of its own.
import type { FastifyInstance } from "fastify";
import type { GatewayContext } from "../context.js";

/** Process metrics worth a glance; the rest of the default set stays on /metrics. */
const PROCESS_KEPT = new Set(["stratum_process_resident_memory_bytes", "stratum_process_cpu_seconds_total", "stratum_process_nodejs_eventloop_lag_p99_seconds"]);

export interface StatsSample {
  labels: Record<string, string | number>;
  value: number;
  /** For histograms: which series (`…_bucket`, `…_sum`, `…_count`). */
  metric?: string;
}

export interface StatsMetric {
  name: string;
  type: string;
  help: string;
  values: StatsSample[];
}

export function statsRoutes(app: FastifyInstance, g: GatewayContext): void {
  app.get("/v1/stats", async (request) => {
    await g.authenticateAdmin(request);
    const all = await g.metrics.registry.getMetricsAsJSON();
    const metrics: StatsMetric[] = all
      .filter((m) => m.name.startsWith("stratum_") && (!m.name.startsWith("stratum_process_") || PROCESS_KEPT.has(m.name)))
      .map((m) => ({
        name: m.name,
        type: String(m.type),
        help: m.help,
        values: m.values.map((v) => ({ labels: { ...v.labels } as Record<string, string | number>, value: v.value, ...("metricName" in v && typeof v.metricName === "string" ? { metric: v.metricName } : {}) })),
      }));
    return { object: "stats", at: Date.now(), uptime_s: Math.round(process.uptime()), in_flight: g.inFlight, metrics };
  });
}
