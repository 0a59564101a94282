// POST /v1/embeddings
import type { FastifyInstance } from "fastify";
import { StratumError } from "../../core/errors.js";
import { EmbeddingRequestSchema, type ChatRequest } from "../../protocol/openai.js";
import { servedHeaders } from "../chat-flow.js";
import { toHttpError } from "../http-errors.js";
import { validateBody } from "../validate.js";
import type { GatewayContext } from "../context.js";

export function embeddingsRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/embeddings", async (request, reply) => {
    const key = await g.authenticate(request);
    const req = validateBody(EmbeddingRequestSchema, request.body);
    request.stratumModel = req.model;
    // Embeddings share the key's limits and budget; the flow sees them as a prompt-only request.
    const asChat: ChatRequest = { model: req.model, messages: [{ role: "user", content: typeof req.input === "string" ? req.input : JSON.stringify(req.input) }], user: req.user };
    const ticket = await g.flow.admit(key, asChat, request.id);
    let served;
    try {
      served = await g.models.embed(ticket.alias, req, { tenant: key.tenant, signal: g.clientSignal(reply), requestId: request.id });
    } catch (e) {
      g.flow.account(ticket, asChat, { status: toHttpError(e).status, stream: false });
      if (e instanceof StratumError && e.kind === "AllRoutesFailed" && !e.attempts?.length) {
        throw new StratumError("InvalidRequest", `The model \`${req.model}\` does not serve embeddings.`, { param: "model", code: "model_not_supported" });
      }
      throw e;
    }
    const u = served.result.usage;
    g.flow.account(ticket, asChat, { served, status: 200, stream: false, usage: { prompt_tokens: u.prompt_tokens, completion_tokens: 0, total_tokens: u.total_tokens } });
    return reply.headers(servedHeaders(ticket, served)).send(served.result);
  });
}
