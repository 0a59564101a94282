// Liveness, readiness and Prometheus metrics (unauthenticated, like most
// scrapers expect; bind to loopback or put it behind the network edge).
import type { FastifyInstance } from "fastify";
import type { GatewayContext } from "../context.js";

export function healthRoutes(app: FastifyInstance, g: GatewayContext): void {
  app.get("/healthz", async () => ({ status: "ok" }));
  app.get("/readyz", async (_request, reply) => {
    const reason = await g.notReadyReason();
    if (reason) return reply.code(503).send({ status: "not ready", reason });
    return { status: "ready" };
  });
  app.get("/metrics", async (_request, reply) => {
    const { contentType, body } = await g.metrics.render();
    return reply.type(contentType).send(body);
  });
}
