// The HTTP server: Fastify with one error handler (kinds → HTTP via
// http-errors.ts), request ids, one log line and metrics per request.
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyError } from "fastify";
import { isStratumError, StratumError } from "../core/errors.js";
import type { Logger } from "../ops/logger.js";
import type { GatewayContext } from "./context.js";
import { fromFrameworkError, toHttpError } from "./http-errors.js";
import { adminRoutes } from "./routes/admin.js";
import { approvalRoutes } from "./routes/approvals.js";
import { traceRoutes } from "./routes/traces.js";
import { registryRoutes } from "./routes/registry.js";
import { rolloutRoutes } from "./routes/rollouts.js";
import { driftRoutes } from "./routes/drift.js";
import { consoleRoutes } from "./routes/console.js";
import { evalRoutes } from "./routes/evals.js";
import { meRoute } from "./routes/me.js";
import { statsRoutes } from "./routes/stats.js";
import { chatCompletionsRoute } from "./routes/chat-completions.js";
import { collectionRoutes } from "./routes/collections.js";
import { memoryRoutes } from "./routes/memory.js";
import { embeddingsRoute } from "./routes/embeddings.js";
import { healthRoutes } from "./routes/health.js";
import { anthropicError, messagesRoute } from "./routes/messages.js";
import { responsesRoute } from "./routes/responses.js";
import { modelsRoute } from "./routes/models.js";

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// Request ids: a per-process random prefix and a counter (unique, and cheaper than a UUID per request).
const ID_PREFIX = randomUUID().slice(0, 8);
let idCounter = 0;

export function buildGateway(g: GatewayContext, log: Logger): FastifyInstance {
  const bodyLimit = g.config.server.bodyLimitBytes;
  const app = Fastify({
    // No Fastify logger: it would build a child logger per request. We write
    // one line per request ourselves (onResponse) with the request id.
    logger: false,
    bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && SAFE_REQUEST_ID.test(incoming) ? incoming : `${ID_PREFIX}-${(++idCounter).toString(36)}`;
    },
    keepAliveTimeout: 75_000,
    // Reject absurd header sizes / slowloris without tying up the process.
    requestTimeout: 0,
    return503OnClosing: true,
  });

  // JSON only: a text/plain body gets 415 instead of a confusing type error.
  app.removeContentTypeParser("text/plain");

  // One listener for every response ('close' fires once per response): no closure or once-wrapper per request.
  const requestEnded = () => g.requestEnded();
  app.addHook("onRequest", (request, reply, done) => {
    request.stratumStart = performance.now();
    g.requestStarted();
    reply.raw.on("close", requestEnded);
    reply.header("x-request-id", request.id);
    done();
  });

  // Also runs for hijacked (streamed) replies, once the raw response ends;
  // those set request.stratumStatus to the in-band outcome.
  app.addHook("onResponse", (request, reply, done) => {
    const seconds = (performance.now() - request.stratumStart) / 1000;
    const route = request.routeOptions.url ?? "unmatched";
    const model = request.stratumModel && g.models.hasModel(request.stratumModel) ? request.stratumModel : request.stratumModel ? "unknown" : "-";
    const status = request.stratumStatus ?? reply.statusCode;
    const statusLabel = String(status);
    g.metrics.requests.inc([route, model, statusLabel]);
    g.metrics.latency.observe({ route, model, status: statusLabel }, seconds);
    if (g.config.server.requestLogs && route !== "/metrics" && route !== "/v1/stats" && route !== "/healthz" && route !== "/readyz") {
      log.info({ reqId: request.id, method: request.method, route, model, status, ms: Math.round(seconds * 1000), keyId: request.stratumKey?.id, stream: request.stratumStatus !== undefined || undefined }, "request");
    }
    done();
  });

  app.setErrorHandler((error: FastifyError | StratumError, request, reply) => {
    const err = isStratumError(error) ? error : fromFrameworkError(error, bodyLimit);
    if (err.kind === "Internal") log.error({ reqId: request.id, err: error }, "internal error");
    const anthropic = request.routeOptions.config && (request.routeOptions.config as { errorShape?: string }).errorShape === "anthropic";
    const http = anthropic ? anthropicError(err) : toHttpError(err);
    return reply.code(http.status).headers(http.headers).send(http.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const http = toHttpError(new StratumError("NotFound", `Unknown request URL: ${request.method} ${request.url.split("?")[0]}.`, { code: "unknown_url" }));
    return reply.code(404).send(http.body);
  });

  healthRoutes(app, g);
  modelsRoute(app, g);
  chatCompletionsRoute(app, g);
  messagesRoute(app, g);
  responsesRoute(app, g);
  embeddingsRoute(app, g);
  adminRoutes(app, g);
  collectionRoutes(app, g);
  memoryRoutes(app, g);
  approvalRoutes(app, g);
  traceRoutes(app, g);
  registryRoutes(app, g);
  rolloutRoutes(app, g);
  driftRoutes(app, g);
  meRoute(app, g);
  statsRoutes(app, g);
  evalRoutes(app, g);
  consoleRoutes(app);
  return app;
}
