// Prometheus metrics. One registry per server instance (tests run several
// servers in one process); label values are bounded (known aliases only).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: "stratum_requests_total",
    help: "HTTP requests by route, model and status",
    labelNames: ["route", "model", "status"] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: "stratum_request_duration_seconds",
    help: "Request latency (for streams: until the last byte)",
    labelNames: ["route", "model", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: "stratum_time_to_first_token_seconds",
    help: "Time to the first streamed content byte",
    labelNames: ["model"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: "stratum_tokens_total",
    help: "Tokens by direction (in = prompt, out = completion)",
    labelNames: ["model", "direction"] as const,
    registers: [this.registry],
  });
  readonly cost = new Counter({
    name: "stratum_cost_usd_total",
    help: "Cost in USD from the price table",
    labelNames: ["model"] as const,
    registers: [this.registry],
  });
  readonly upstreamAttempts = new Counter({
    name: "stratum_upstream_attempts_total",
    help: "Upstream attempts by deployment and outcome (success or error kind)",
    labelNames: ["deployment", "outcome"] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: "stratum_circuit_state",
    help: "Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open",
    labelNames: ["deployment"] as const,
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: "stratum_cache_lookups_total",
    help: "Response cache lookups by result (hit, miss, coalesced)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly guardrailDecisions = new Counter({
    name: "stratum_guardrail_decisions_total",
    help: "Guardrail decisions by guardrail, stage (input, retrieval, output) and action",
    labelNames: ["pipeline", "guardrail", "stage", "action"] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: "stratum_rate_limit_rejections_total",
    help: "Requests rejected by rate limits or budgets",
    labelNames: ["scope", "limit"] as const,
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: "stratum_fallbacks_total",
    help: "Requests answered by a fallback alias",
    labelNames: ["model", "served_by"] as const,
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: "stratum_in_flight_requests",
    help: "Requests being served",
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: "stratum_process_" });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
