// Prometheus metrics. One registry per server instance (tests run several
// servers in one process); label values are bounded (known aliases only).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { BatchedCounter } from "./batched-counter.js";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new BatchedCounter({
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
  readonly tokens = new BatchedCounter({
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
  readonly upstreamAttempts = new BatchedCounter({
    name: "stratum_upstream_attempts_total",
    help: "Upstream attempts by deployment and outcome (success or error kind)",
    labelNames: ["deployment", "outcome"] as const,
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: "stratum_retries_total",
    help: "Failed upstream attempts worth a retry, by deployment and decision (retried, or budget_spent: the deployment's retry budget was spent, so the request moved on)",
    labelNames: ["deployment", "decision"] as const,
    registers: [this.registry],
  });
  readonly circuitState = new Gauge({
    name: "stratum_circuit_state",
    help: "Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open",
    labelNames: ["deployment"] as const,
    registers: [this.registry],
  });
  readonly cacheLookups = new BatchedCounter({
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
  // Quality signals (beside the system ones). Cache hit rate and fallback rate come from
  // stratum_cache_lookups_total and stratum_fallbacks_total / stratum_requests_total.
  readonly groundingScore = new Histogram({
    name: "stratum_grounding_score",
    help: "Grounding score of pipeline answers (share of answer sentences supported by the passages)",
    labelNames: ["pipeline"] as const,
    buckets: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1],
    registers: [this.registry],
  });
  readonly abstentions = new Counter({
    name: "stratum_pipeline_abstentions_total",
    help: "Pipeline answers that declined: not_in_documents (weak retrieval) or refused (content_filter: guardrail, grounding)",
    labelNames: ["pipeline", "reason"] as const,
    registers: [this.registry],
  });
  readonly pipelineAnswers = new Counter({
    name: "stratum_pipeline_answers_total",
    help: "Pipeline answers (the denominator of the abstention rate)",
    labelNames: ["pipeline"] as const,
    registers: [this.registry],
  });
  readonly costPerRequest = new Histogram({
    name: "stratum_request_cost_usd",
    help: "Cost of one request in USD (by the model or pipeline asked for)",
    labelNames: ["model"] as const,
    buckets: [0, 0.00001, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly onlineEvalScore = new Histogram({
    name: "stratum_online_eval_score",
    help: "Online evaluation of sampled live pipeline responses, by metric (groundedness, abstained, json_valid in [0,1]; citations, answer_length counts)",
    labelNames: ["pipeline", "version", "metric"] as const,
    buckets: [0, 0.25, 0.5, 0.75, 0.9, 1, 2, 5, 10, 100, 1000, 10000],
    registers: [this.registry],
  });
  readonly onlineEvalDropped = new Counter({
    name: "stratum_online_eval_dropped_total",
    help: "Sampled responses not scored because the online-eval queue was full",
    registers: [this.registry],
  });
  readonly traceSpansDropped = new Counter({
    name: "stratum_trace_spans_dropped_total",
    help: "Spans not stored because the trace writer's queue was full or a write failed",
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
