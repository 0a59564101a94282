// Composition root: builds every layer from the config and owns the
// lifecycle (listen, drain on SIGTERM, close).
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/schema.js";
import { MemoryCacheStore, MemoryRateLimitStore, openDatabase, SqliteCacheStore, SqliteKeyStore, SqliteUsageStore, type SqliteDb } from "../data/index.js";
import { buildGateway, ChatFlow, GatewayContext, KeyService, RateLimiter } from "../gateway/index.js";
import { ResponseCache } from "../models/index.js";
import type { ChatCompletion } from "../protocol/openai.js";
import { createLogger, Metrics, type Logger } from "../ops/index.js";
import { PriceTable } from "../ops/pricing.js";
import { UsageRecorder } from "../ops/usage-recorder.js";
import { Conversations, Orchestrator, RagPipeline, type Pipeline } from "../pipelines/index.js";
import { createKnowledge, ingestSampleCollection } from "./knowledge.js";
import { createModelLayer } from "./model-layer.js";

export interface StratumOptions {
  config: Config;
  logger?: Logger;
  /** STRATUM_API_KEY: registered as the admin key when given. */
  adminKey?: string;
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
}

const CIRCUIT_VALUE = { closed: 0, "half-open": 1, open: 2 } as const;

export async function createStratum(opts: StratumOptions): Promise<Stratum> {
  const { config } = opts;
  const log = opts.logger ?? createLogger(config.server.logLevel);
  const dataDir = resolve(config.dataDir);
  const db: SqliteDb = openDatabase(join(dataDir, "stratum.db"));
  const metrics = new Metrics();

  const keys = new KeyService(new SqliteKeyStore(db));
  const { created } = await keys.ensureAdmin(opts.adminKey);

  const cache = config.cache.enabled
    ? new ResponseCache(
        config.cache.store === "sqlite" ? new SqliteCacheStore<ChatCompletion>(db, config.cache.maxEntries) : new MemoryCacheStore<ChatCompletion>(config.cache.maxEntries),
        { ttlMs: config.cache.ttlSeconds * 1000, maxTemperature: config.cache.maxTemperature },
      )
    : undefined;
  const modelLayer = createModelLayer(config, {
    onCircuitChange: (id, state) => {
      metrics.circuitState.set({ deployment: id }, CIRCUIT_VALUE[state]);
      log.warn({ deployment: id, state }, "circuit state changed");
    },
    onAttempt: (a) => {
      metrics.upstreamAttempts.inc({ deployment: a.deployment, outcome: a.outcome });
      if (a.outcome !== "success") log.warn({ deployment: a.deployment, outcome: a.outcome, status: a.status, err: a.message, ms: Math.round(a.durationMs) }, "upstream attempt failed");
    },
    ...(cache ? { cache } : {}),
    serviceHooks: {
      onCache: (s) => metrics.cacheLookups.inc({ result: s }),
      onCacheError: (err) => log.error({ err }, "response cache failed; serving without it"),
    },
  });
  const { table, service: models } = modelLayer;
  for (const d of table.deployments()) metrics.circuitState.set({ deployment: d.id }, 0);
  const knowledge = createKnowledge(config, db, models);
  if (config.retrieval.sampleCollection) await ingestSampleCollection(knowledge, log);
  const conversations = new Conversations(knowledge.sessions);
  const pipelines = new Map<string, Pipeline>(
    config.pipelines.map((p) => [p.name, new RagPipeline(p, { models, search: (r) => knowledge.retriever.search(r), conversations, memory: knowledge.memory })]),
  );
  const backend = new Orchestrator(models, pipelines, conversations, config.sessions.contextTokens);
  const usage = new UsageRecorder(new SqliteUsageStore(db), log);
  const limiter = new RateLimiter(
    new MemoryRateLimitStore(),
    (scope, limit) => metrics.rateLimited.inc({ scope, limit }),
    (err) => log.error({ err }, "rate-limit counter update failed"),
  );
  const flow = new ChatFlow({ models: backend, limiter, usage, prices: new PriceTable(config.pricing), metrics, budgets: config.budgets, limits: config.limits });

  let draining = false;
  const g = new GatewayContext({ config, log, metrics, keys, models: backend, flow, usage, knowledge, notReadyReason: () => (draining ? "draining" : undefined) });
  const app = buildGateway(g, log);

  let closed: Promise<void> | undefined;
  return {
    app,
    config,
    keys,
    generatedAdminKey: created,
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
        await usage.close();
        await modelLayer.close();
        db.close();
        log.info("stratum stopped");
        log.flush();
      })();
      return closed;
    },
  };
}
