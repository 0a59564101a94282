// Sessions (server-kept conversations) and long-term memory facts per end user.
import type { FastifyInstance } from "fastify";
import { StratumError } from "../../core/errors.js";
import { AddMemorySchema } from "../../protocol/stratum.js";
import type { GatewayContext } from "../context.js";
import { validateBody } from "../validate.js";

export function memoryRoutes(app: FastifyInstance, g: GatewayContext): void {
  const { sessions, memory } = g.knowledge;

  app.get<{ Querystring: { limit?: string; user?: string } }>("/v1/sessions", async (request) => {
    const key = await g.authenticate(request);
    const limit = Math.min(Number(request.query.limit ?? 50) || 50, 500);
    return { object: "list", data: await sessions.listSessions(key.tenant, { limit, ...(request.query.user ? { user: request.query.user } : {}) }) };
  });
  app.get<{ Params: { id: string } }>("/v1/sessions/:id", async (request) => {
    const key = await g.authenticate(request);
    const info = await sessions.get(key.tenant, request.params.id);
    if (!info) throw new StratumError("NotFound", `No session ${request.params.id}`, { param: "id", code: "session_not_found" });
    const h = await sessions.history(key.tenant, request.params.id);
    return { object: "session", ...info, summary: h.summary ?? null, messages: h.messages };
  });
  app.delete<{ Params: { id: string } }>("/v1/sessions/:id", async (request) => {
    const key = await g.authenticate(request);
    if (!(await sessions.deleteSession(key.tenant, request.params.id))) throw new StratumError("NotFound", `No session ${request.params.id}`, { param: "id", code: "session_not_found" });
    return { id: request.params.id, deleted: true };
  });

  app.post("/v1/memory", async (request, reply) => {
    const key = await g.authenticate(request);
    const input = validateBody(AddMemorySchema, request.body);
    const fact = await memory.add(key.tenant, input.user, { text: input.text, ...(input.tags ? { tags: input.tags } : {}) });
    return reply.code(201).send({ object: "memory.fact", user: input.user, ...fact });
  });
  app.get<{ Querystring: { user?: string; query?: string } }>("/v1/memory", async (request) => {
    const key = await g.authenticate(request);
    const user = request.query.user;
    if (!user) throw new StratumError("InvalidRequest", "user is required", { param: "user" });
    if (request.query.query) return { object: "list", data: await memory.search(key.tenant, user, request.query.query, 10) };
    return { object: "list", data: await memory.list(key.tenant, user) };
  });
  app.delete<{ Params: { id: string }; Querystring: { user?: string } }>("/v1/memory/:id", async (request) => {
    const key = await g.authenticate(request);
    const user = request.query.user;
    if (!user) throw new StratumError("InvalidRequest", "user is required", { param: "user" });
    if (!(await memory.delete(key.tenant, user, request.params.id))) throw new StratumError("NotFound", `No memory fact ${request.params.id} for that user`, { param: "id" });
    return { id: request.params.id, deleted: true };
  });
}
