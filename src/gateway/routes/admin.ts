// Admin API: keys, usage and budgets. Requires an admin key.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { StratumError } from "../../core/errors.js";
import { utcHourStart } from "../../core/utc-period.js";
import { publicKeyView } from "../auth/key-service.js";
import { budgetView } from "../budgets.js";
import { validateBody } from "../validate.js";
import type { GatewayContext } from "../context.js";

const CreateKeySchema = z.strictObject({
  tenant: z.string().min(1).max(64),
  name: z.string().max(200).optional(),
  role: z.enum(["admin", "user"]).optional(),
  limits: z
    .strictObject({
      requestsPerMinute: z.number().int().positive().optional(),
      tokensPerMinute: z.number().int().positive().optional(),
      concurrent: z.number().int().positive().optional(),
      dailyBudgetUsd: z.number().nonnegative().optional(),
      monthlyBudgetUsd: z.number().nonnegative().optional(),
    })
    .optional(),
});

export function adminRoutes(app: FastifyInstance, g: GatewayContext): void {
  app.post("/admin/keys", async (request, reply) => {
    await g.authenticateAdmin(request);
    const input = validateBody(CreateKeySchema, request.body);
    const { key, record } = await g.keys.create(input);
    return reply.code(201).send({ ...publicKeyView(record), key });
  });
  app.get<{ Querystring: { tenant?: string; include_revoked?: string } }>("/admin/keys", async (request) => {
    await g.authenticateAdmin(request);
    const keys = await g.keys.list({ tenant: request.query.tenant, includeRevoked: request.query.include_revoked === "true" });
    return { object: "list", data: keys.map(publicKeyView) };
  });
  app.delete<{ Params: { id: string } }>("/admin/keys/:id", async (request) => {
    await g.authenticateAdmin(request);
    if (!(await g.keys.revoke(request.params.id))) throw new StratumError("NotFound", `No active key with id ${request.params.id}`, { param: "id" });
    return { id: request.params.id, revoked: true };
  });
  // Every cap on an active key or its tenant, with the spend of the current day or month against it.
  app.get<{ Querystring: { tenant?: string } }>("/admin/budgets", async (request) => {
    await g.authenticateAdmin(request);
    const keys = await g.keys.list({ tenant: request.query.tenant });
    const status = await g.flow.budgets.status(keys);
    return { object: "list", data: status.map(budgetView) };
  });
  app.get<{ Querystring: { since?: string; tenant?: string } }>("/admin/usage", async (request) => {
    await g.authenticateAdmin(request);
    // From the start of that UTC hour: the stores then answer from their hourly sums alone.
    const since = sinceHour(request.query.since, 86_400_000);
    await g.usage.flush();
    return { object: "list", since: new Date(since).toISOString(), data: await g.usage.summary({ since, tenant: request.query.tenant }) };
  });
  // Totals per UTC hour (the console's usage history); hours without use are left out.
  app.get<{ Querystring: { since?: string; tenant?: string } }>("/admin/usage/hourly", async (request) => {
    await g.authenticateAdmin(request);
    const since = sinceHour(request.query.since, 7 * 86_400_000);
    await g.usage.flush();
    const hours = await g.usage.hourly({ since, tenant: request.query.tenant });
    return { object: "list", since: new Date(since).toISOString(), data: hours.map(({ hour, ...sums }) => ({ hour: new Date(hour).toISOString(), ...sums })) };
  });
}

/** The start of the UTC hour of `since` (an ISO date), or of `defaultAgoMs` ago. */
function sinceHour(since: string | undefined, defaultAgoMs: number): number {
  const asked = since ? Date.parse(since) : Date.now() - defaultAgoMs;
  if (!Number.isFinite(asked)) throw new StratumError("InvalidRequest", "since must be an ISO date", { param: "since" });
  return utcHourStart(asked);
}
