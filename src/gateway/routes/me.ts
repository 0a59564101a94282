// GET /v1/me: who the caller's key is (tenant, role, limits, and its budgets
// with what was spent against them) and which optional APIs this server has,
// so a client (the web console) can show the right pages.
import type { FastifyInstance } from "fastify";
import { budgetView } from "../budgets.js";
import type { GatewayContext } from "../context.js";

export function meRoute(app: FastifyInstance, g: GatewayContext): void {
  app.get("/v1/me", async (request) => {
    const key = await g.authenticate(request);
    return {
      object: "key",
      id: key.id,
      tenant: key.tenant,
      name: key.name,
      role: key.role,
      limits: key.limits,
      budgets: (await g.flow.budgets.status([key])).map(budgetView),
      features: { approvals: Boolean(g.approvals), evals: Boolean(g.evals) },
    };
  });
}
