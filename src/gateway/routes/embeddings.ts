// POST /v1/embeddings — shares the key's limits and budget with chat.
import type { FastifyInstance } from "fastify";
import { estimateTextTokens } from "../../models/index.js";
import { EmbeddingRequestSchema } from "../../protocol/openai.js";
import { jsonTextOf } from "../../protocol/raw-json.js";
import { servedHeaders } from "../chat-flow.js";
import { sendJson } from "../send-json.js";
import { toHttpError } from "../http-errors.js";
import { shapeValidator } from "../validate.js";
import type { GatewayContext } from "../context.js";

const validateEmbeddingRequest = shapeValidator(EmbeddingRequestSchema);

export function embeddingsRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/embeddings", async (request, reply) => {
    const key = await g.authenticate(request);
    const req = validateEmbeddingRequest(request.body);
    request.stratumModel = req.model;
    const estimatePromptTokens = () => estimateTextTokens(typeof req.input === "string" ? req.input.length : JSON.stringify(req.input).length);
    const ticket = await g.flow.admit(key, { model: req.model, user: req.user, estimatePromptTokens }, request.id);
    let served;
    try {
      served = await g.models.embed(ticket.alias, req, { tenant: key.tenant, signal: g.clientSignal(reply), requestId: request.id });
    } catch (e) {
      g.flow.account(ticket, { status: toHttpError(e).status, stream: false });
      throw e;
    }
    const u = served.result.usage;
    g.flow.account(ticket, { served, status: 200, stream: false, usage: { prompt_tokens: u.prompt_tokens, completion_tokens: 0, total_tokens: u.total_tokens } });
    // An upstream's answer goes out as the text it came in (no serialising thousands of floats again).
    return sendJson(reply.headers(servedHeaders(ticket, served)), jsonTextOf(served.result) ?? served.result);
  });
}
