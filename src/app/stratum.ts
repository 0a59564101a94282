// Composition root: builds every layer from the config and owns the
// lifecycle (listen, drain on SIGTERM, close).
import type { FastifyInstance } from "fastify";
import type { Config, PipelineConfig } from "../config/schema.js";
import { buildGateway, ChatFlow, GatewayContext, KeyService, RateLimiter } from "../gateway/index.js";
import { ResponseCache } from "../models/index.js";
import { createLogger, Metrics, type Logger } from "../ops/index.js";
import { PriceTable } from "../ops/pricing.js";
import { UsageRecorder } from "../ops/usage-recorder.js";
import { UsageRetention } from "../ops/usage-retention.js";
import { Conversations, Orchestrator, RagPipeline, StepPipeline, type Pipeline, type PipelineTurnSignals } from "../pipelines/index.js";
import type { SearchRequest } from "../retrieval/index.js";
import { createKnowledge, ingestSampleCollection, runIngestWorker } from "./knowledge.js";
import { createModelLayer } from "./model-layer.js";
import { Guardrails } from "../safety/index.js";
import { builtInDetectors } from "./detectors.js";
import { openHotState, type HotState } from "./hot-state.js";
import { openStorage, type Storage } from "./storage.js";
import { createVersionServing } from "./versions.js";
import { createDriftMonitor } from "./drift.js";
import { createTracing } from "./tracing.js";
import { QUALITY_SCORES, type OnlineEvaluator, type Tracing } from "../tracing/index.js";
import { ApprovalService, DEFAULT_APPROVAL_SWEEP_MS } from "./approvals.js";
import { McpToolSource } from "../tools/index.js";
import { mcpServerSpecs } from "../pipelines/index.js";

export interface StratumOptions {
  config: Config;
  logger?: Logger;
  /** STRATUM_API_KEY: registered as the admin key when given. */
  adminKey?: string;
  /** How often overdue approvals expire and decided runs resume (default 5 s). */
  approvalSweepMs?: number;
  /** How often usage rows past `usage.retentionDays` are deleted (default hourly, and once at start). */
  usageSweepMs?: number;
}

export interface Stratum {
  app: FastifyInstance;
  config: Config;
  keys: KeyService;
  /** Set when an admin key was generated on this start (print it once). */
  generatedAdminKey: string | undefined;
  /** Listen on the configured host/port; resolves to the base URL. */
  listen(): Promise<string>;
  /** Stop accepting, let in-flight requests and streams finish (up to the drain timeout), then close. */
  close(): Promise<void>;
  /** Request tracing (absent with tracing.enabled: false): flush() writes queued spans; sweep() applies retention. */
  tracing?: Tracing;
  /** Online evaluation of live pipeline responses; onScore() feeds canary rollouts. */
  onlineEval?: OnlineEvaluator;
}

const CIRCUIT_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

export async function createStratum(opts: StratumOptions): Promise<Stratum> {
  const { config } = opts;
  const log = opts.logger ?? createLogger(config.server.logLevel);
  const storage = await openStorage(config);
  const metrics = new Metrics();
  const tracing = await createTracing(config, storage.traces, metrics, log);


  const hot = openHotState(config, storage, log);
  // A key revoked on one replica stops working on all of them at once, not after their cache TTL.
  const keys = new KeyService(storage.keys, undefined, () => hot.broadcastInvalidation("keys"));
  await hot.onInvalidation((kind) => kind === "keys" && keys.forgetCached());
  const { created } = await keys.ensureAdmin(opts.adminKey);
  const cache = hot.cache ? new ResponseCache(hot.cache, { ttlMs: config.cache.ttlSeconds * 1000, maxTemperature: config.cache.maxTemperature }) : undefined;
  const modelLayer = createModelLayer(config, {
    onCircuitChange: (id, state) => {
      metrics.circuitState.set({ deployment: id }, CIRCUIT_VALUE[state]);
      log.warn({ deployment: id, state }, "circuit state changed");
    },
    onAttempt: (a) => {
      metrics.upstreamAttempts.inc([a.deployment, a.outcome]);
      if (a.outcome !== "success") log.warn({ deployment: a.deployment, outcome: a.outcome, status: a.status, err: a.message, ms: Math.round(a.durationMs) }, "upstream attempt failed");
    },
    onRetry: (deployment, granted) => metrics.retries.inc({ deployment, decision: granted ? "retried" : "budget_spent" }),
    ...(cache ? { cache } : {}),
    ...(hot.coalescer ? { coalescer: hot.coalescer } : {}),
    ...(hot.semanticCache ? { semanticStore: hot.semanticCache } : {}),
    serviceHooks: {
      onCache: (s) => metrics.cacheLookups.inc([s]),
      onCacheError: (err) => log.error({ err }, "response cache failed; serving without it"),
    },
  });
  const { table, service: models } = modelLayer;
  for (const d of table.deployments()) metrics.circuitState.set({ deployment: d.id }, 0);
  const knowledge = createKnowledge(config, storage, models, hot.jobs);
  const workers = new AbortController();
  const ingestWorker = runIngestWorker(knowledge, workers.signal, log).catch((err: unknown) => log.error({ err }, "ingest worker stopped"));
  if (config.retrieval.sampleCollection) await ingestSampleCollection(knowledge, log);
  const conversations = new Conversations(knowledge.sessions);
  // Drift monitoring, fed by the pipelines' turns and the accounted requests (off the response path).
  const drift = await createDriftMonitor({ config, store: storage.drift, metrics, log, server: () => app.server, evals: storage.evals, ...(opts.adminKey ? { adminKey: opts.adminKey } : {}) });
  const detectors = builtInDetectors();
  // Suspended tool runs wait in the configured storage (SQLite file or PostgreSQL, shared by replicas).
  const approvalStore = storage.approvals;
  // Each pipeline's MCP servers: connected and listed before serving (a server that is down is retried in the background).
  const mcpSources = new Map<string, McpToolSource>();
  for (const p of config.pipelines) {
    if (p.tools?.mcp.length) mcpSources.set(p.name, new McpToolSource(mcpServerSpecs(p.tools.mcp), { log: log.child({ pipeline: p.name }) }));
  }
  await Promise.all([...mcpSources.values()].map((s) => s.start()));
  const ragPipelines = new Map<string, RagPipeline>();
  // The pipeline factory: a config file entry, or a registry version's spec, becomes a served pipeline.
  const buildPipeline = (p: PipelineConfig): Pipeline => {
    const guardrails = new Guardrails(p.guardrails, detectors, (d, events) => {
      metrics.guardrailDecisions.inc({ pipeline: p.name, guardrail: d.guardrail, stage: d.stage, action: d.action });
      events?.addEvent(`guardrail.${d.guardrail}`, { "stratum.guardrail.stage": d.stage, "stratum.guardrail.action": d.action, "stratum.guardrail.types": d.types, "stratum.guardrail.score": d.score, ...(d.passage !== undefined ? { "stratum.guardrail.passage": d.passage } : {}) });
      log.info({ pipeline: p.name, ...d }, "guardrail decision");
    });
    const shared = { models, search: (r: SearchRequest) => knowledge.retriever.search(r), conversations, memory: knowledge.memory, guardrails, ...(drift ? { onTurn: (t: PipelineTurnSignals) => drift.monitor.recordTurn(t) } : {}) };
    if (p.steps) return new StepPipeline({ ...p, steps: p.steps }, shared);
    return new RagPipeline(p, { ...shared, approvals: approvalStore, ...(mcpSources.has(p.name) ? { toolSources: [mcpSources.get(p.name)!] } : {}) });
  };
  const pipelines = new Map<string, Pipeline>(
    config.pipelines.map((p) => {
      const pipeline = buildPipeline(p);
      if (pipeline instanceof RagPipeline) ragPipelines.set(p.name, pipeline);
      return [p.name, pipeline];
    }),
  );
  // Registry and rollouts: `model: "<pipeline>"` is served through its production alias (or the rollout on it), `<pipeline>@3` / `@staging` by version.
  const versions = await createVersionServing({ config, storage, log, pipelines, buildPipeline });
  // Online-eval quality scores of sampled answers feed the running canary's comparison of versions.
  tracing?.onlineEval?.onScore((s) => {
    if (s.version !== undefined && QUALITY_SCORES.has(s.metric)) void versions.rollouts.recordScore(s.pipeline, s.version, s.metric, s.value);
  });
  const backend = new Orchestrator(models, pipelines, conversations, config.sessions.contextTokens, versions.versioned);
  const usage = new UsageRecorder(storage.usage, log, hot.spend ? { spend: hot.spend } : {});
  const usageRetention = new UsageRetention(storage.usage, config.usage.retentionDays, log);
  usageRetention.start(opts.usageSweepMs);
  const limiter = new RateLimiter(
    hot.rateLimits,
    (scope, limit) => metrics.rateLimited.inc({ scope, limit }),
    (err) => log.error({ err }, "rate-limit counter update failed"),
  );
  const flow = new ChatFlow({ models: backend, limiter, usage, prices: new PriceTable(config.pricing), metrics, budgets: config.budgets, limits: config.limits, ...(drift ? { onAccounted: (r) => drift.monitor.recordRequest(r) } : {}) });

  const approvals = new ApprovalService(approvalStore, ragPipelines, log, workers.signal);
  approvals.start(opts.approvalSweepMs ?? DEFAULT_APPROVAL_SWEEP_MS);

  let draining = false;
  const g = new GatewayContext({ config, log, metrics, keys, models: backend, flow, usage, knowledge, ...(drift ? { drift: drift.monitor } : {}), ...(approvals ? { approvals } : {}), evals: storage.evals, ...(tracing ? { tracing: tracing.gateway } : {}), registry: versions.registry, rollouts: versions.rollouts, notReadyReason: () => (draining ? Promise.resolve("draining") : backendsDown(storage, hot)) });
  const app = buildGateway(g, log);

  let closed: Promise<void> | undefined;
  return {
    app,
    config,
    keys,
    generatedAdminKey: created,
    ...(tracing ? { tracing: tracing.tracing, onlineEval: tracing.onlineEval } : {}),
    async listen() {
      const url = await app.listen({ host: config.server.host, port: config.server.port });
      log.info({ url, models: table.names(), pipelines: [...pipelines.keys()] }, "stratum listening");
      return url;
    },
    close() {
      closed ??= (async () => {
        draining = true;
        const closing = app.close(); // stops accepting; in-flight requests continue
        const timeout = new Promise<void>((r) => setTimeout(r, config.server.drainTimeoutMs).unref());
        await Promise.race([g.idle(), timeout]);
        if (g.inFlight > 0) log.warn({ inFlight: g.inFlight }, "drain timeout; closing remaining connections");
        app.server.closeAllConnections();
        await closing;
        await drift?.close(); // persists the current windows
        await versions.close(); // shadow mirrors in flight (bounded wait)
        await approvals.stop(); // lets a run that is resuming finish (its approval is already claimed)
        await Promise.all([...mcpSources.values()].map((s) => s.close())); // ends MCP server processes
        workers.abort();
        await ingestWorker;
        await usageRetention.stop();
        await usage.close();
        await tracing?.close(); // scores and spans still queued are written
        await modelLayer.close();
        await hot.close();
        await storage.close();
        log.info("stratum stopped");
        log.flush();
      })();
      return closed;
    },
  };
}

/** Readiness: each backend answers within a second, or the reason names it. */
async function backendsDown(storage: Storage, hot: HotState): Promise<string | undefined> {
  const probe = async (name: string, ping: () => Promise<void>) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("no answer within 1 s")), 1_000)));
    try {
      await Promise.race([ping(), timeout]);
      return undefined;
    } catch (e) {
      return `${name} unavailable: ${(e as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  };
  const reasons = await Promise.all([probe(storage.engine, () => storage.ping()), probe("redis", () => hot.ping())]);
  return reasons.filter(Boolean).join("; ") || undefined;
}
