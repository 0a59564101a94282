// What every model request (chat in either API, embeddings) goes through
// around the model call: model lookup, budget (block or downgrade), rate
// limits, then metering and cost after the response — off the response path.
import { SpanStatusCode, type Span } from "@opentelemetry/api";
import { StratumError } from "../core/errors.js";
import type { ApiKeyRecord } from "../data/types.js";
import type { BudgetConfig, Limits } from "../config/schema.js";
import { answeredByFallback, servedFromCache, type Served } from "../models/index.js";
import type { Usage } from "../protocol/openai.js";
import type { Metrics } from "../ops/metrics.js";
import type { PriceTable } from "../ops/pricing.js";
import type { UsageRecorder } from "../ops/usage-recorder.js";
import { Budgets } from "./budgets.js";
import type { Admission, LimitScope, RateLimiter } from "./limits/rate-limiter.js";

/** What admission needs to know about a request, whatever its API. */
export interface AdmitRequest {
  model: string;
  /** The end user (OpenAI's `user`), for per-user limits. */
  user?: string;
  /** A cheap prompt-token estimate; called only when a token limit applies. */
  estimatePromptTokens(): number;
}

export interface Ticket {
  key: ApiKeyRecord;
  user: string | null;
  requested: string;
  /** The alias to call (the budget may have downgraded it). */
  alias: string;
  downgraded: boolean;
  admission: Admission;
  /** Prompt tokens counted at admission (0 when no token limit applied). */
  promptEstimate(): number;
  startedAt: number;
  requestId: string;
  /** The request's root span (tracing), ended by account() once tokens and cost are known. */
  span: Span | undefined;
}

export interface ChatFlowDeps {
  models: { hasModel(name: string): boolean };
  limiter: RateLimiter;
  usage: UsageRecorder;
  prices: PriceTable;
  metrics: Metrics;
  budgets: BudgetConfig;
  limits: { perKey: Limits; perUser: Limits };
  /** Told about every accounted request (drift monitoring); runs after the response. */
  onAccounted?: (r: { model: string; latencyMs: number; costUsd: number; status: number; completionTokens: number }) => void;
}

export interface Outcome {
  served?: Served<unknown>;
  status: number;
  stream: boolean;
  /** Upstream-reported usage. */
  usage?: Usage;
  /** Counts usage locally when the upstream reported none (e.g. a stream without a usage chunk). */
  countUsage?: () => Usage;
}

export class ChatFlow {
  readonly budgets: Budgets;
  private readonly keyScopes = new WeakMap<ApiKeyRecord, LimitScope>();
  constructor(private readonly d: ChatFlowDeps) {
    this.budgets = new Budgets(d.budgets, d.usage, d.metrics);
  }

  /** `span`: the request's root span, which account() ends. */
  async admit(key: ApiKeyRecord, req: AdmitRequest, requestId: string, span?: Span): Promise<Ticket> {
    const requested = req.model;
    if (!this.d.models.hasModel(requested)) {
      throw new StratumError("NotFound", `The model \`${requested}\` does not exist or you do not have access to it.`, { code: "model_not_found", param: "model" });
    }
    const caps = this.budgets.capsFor(key);
    const downgradeTo = caps.length ? await this.budgets.admit(caps) : undefined;
    const alias = downgradeTo ?? requested;
    const downgraded = downgradeTo !== undefined;
    const keyScope = this.keyScopes.get(key) ?? this.keyScopeOf(key);
    const scopes: LimitScope[] = req.user ? [keyScope, { scope: "user", id: `${key.id}:${req.user}`, limits: this.d.limits.perUser }] : [keyScope];
    // Admission uses an estimate (no tokenizer on the hot path); account() corrects it with the real count.
    let estimate = 0;
    const admission = await this.d.limiter.admit(scopes, () => (estimate ||= req.estimatePromptTokens()));
    return { key, user: req.user ?? null, requested, alias, downgraded, admission, promptEstimate: () => estimate, startedAt: performance.now(), requestId, span };
  }

  /** A key's limit scope (config defaults under its own limits), made once per key record the auth cache hands out. */
  private keyScopeOf(key: ApiKeyRecord): LimitScope {
    const scope: LimitScope = { scope: "key", id: key.id, limits: { ...this.d.limits.perKey, ...definedLimits(key.limits) } };
    this.keyScopes.set(key, scope);
    return scope;
  }

  /** Meter, cost and record a finished request. Runs after the response is sent. */
  account(ticket: Ticket, out: Outcome): void {
    ticket.admission.release();
    setImmediate(() => {
      const served = out.served;
      const usage = out.usage ?? (served && out.status < 400 ? out.countUsage?.() : undefined);
      const model = served?.servedBy ?? ticket.alias;
      const promptTokens = usage?.prompt_tokens ?? 0;
      const completionTokens = usage?.completion_tokens ?? 0;
      // Cached answers are free upstream; they are recorded at zero cost.
      const cost = served && !servedFromCache(served) ? this.d.prices.cost(this.d.prices.priceOf(served.priceKey?.provider, served.priceKey?.model, model), promptTokens, completionTokens) : 0;
      const estimate = ticket.promptEstimate();
      ticket.admission.addTokens(completionTokens + (estimate ? promptTokens - estimate : 0));
      if (promptTokens) this.d.metrics.tokens.inc([model, "in"], promptTokens);
      if (completionTokens) this.d.metrics.tokens.inc([model, "out"], completionTokens);
      if (cost) this.d.metrics.cost.inc({ model }, cost);
      if (served && out.status < 400) this.d.metrics.costPerRequest.observe({ model: ticket.requested }, cost);
      // Judged on the route's attempts, so a pipeline answered by its own route is not a fallback.
      if (served && answeredByFallback(served)) this.d.metrics.fallbacks.inc({ model: ticket.alias, served_by: served.servedBy });
      this.d.usage.record({
        requestId: ticket.requestId,
        at: Date.now(),
        keyId: ticket.key.id,
        tenant: ticket.key.tenant,
        user: ticket.user,
        model,
        deployment: served?.deployment ?? null,
        promptTokens,
        completionTokens,
        costUsd: cost,
        status: out.status,
        cached: served !== undefined && servedFromCache(served),
        stream: out.stream,
        latencyMs: performance.now() - ticket.startedAt,
      });
      endRequestSpan(ticket.span, out, { model, promptTokens, completionTokens, cost });
      this.d.onAccounted?.({ model: ticket.requested, latencyMs: performance.now() - ticket.startedAt, costUsd: cost, status: out.status, completionTokens });
    });
  }
}

/** Tokens, cost and status go onto the root span, which ends here (after the response). */
function endRequestSpan(span: Span | undefined, out: Outcome, r: { model: string; promptTokens: number; completionTokens: number; cost: number }): void {
  if (!span?.isRecording()) return;
  span.setAttributes({
    "http.response.status_code": out.status,
    "stratum.served_by": r.model,
    "stratum.tokens_in": r.promptTokens,
    "stratum.tokens_out": r.completionTokens,
    "stratum.cost_usd": r.cost,
    ...(out.served ? { "stratum.cache": out.served.cache, "stratum.attempts": out.served.attempts.length } : {}),
    ...(out.served?.deployment ? { "stratum.deployment": out.served.deployment } : {}),
  });
  if (out.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${out.status}` });
  span.end();
}

function definedLimits(l: ApiKeyRecord["limits"]): Limits {
  const out: Limits = {};
  if (l.requestsPerMinute) out.requestsPerMinute = l.requestsPerMinute;
  if (l.tokensPerMinute) out.tokensPerMinute = l.tokensPerMinute;
  if (l.concurrent) out.concurrent = l.concurrent;
  return out;
}

/** Response headers that tell the client how the request was served. */
export function servedHeaders(ticket: Ticket, served: Served<unknown> | undefined): Record<string, string> {
  // Copied key by key: `{ ...headers }` followed by more keys cost ~4 µs here (V8's
  // spread leaves no room for the additions), the copy ~0.1 µs.
  const h: Record<string, string> = {};
  const limits = ticket.admission.headers;
  for (const k in limits) h[k] = limits[k]!;
  if (served) {
    h["x-stratum-model"] = served.servedBy;
    h["x-stratum-cache"] = served.cache;
    if (served.deployment) h["x-stratum-deployment"] = served.deployment;
    h["x-stratum-attempts"] = String(served.attempts.length);
  }
  if (ticket.downgraded) h["x-stratum-downgraded"] = "budget";
  return h;
}
