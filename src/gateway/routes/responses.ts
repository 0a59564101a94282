// POST /v1/responses — OpenAI's Responses API inbound, translated to the
// canonical request and served through the same flow and router as chat
// completions (stateless: see protocol/responses.ts).
import type { FastifyInstance } from "fastify";
import { chatCompletionToResponse, ResponsesRequestSchema, ResponsesStreamEncoder, responsesToChatRequest, type ResponsesRequest } from "../../protocol/responses.js";
import type { GatewayContext } from "../context.js";
import { withRequestSpan } from "../request-span.js";
import { serveChat, type ChatDialect } from "../serve-chat.js";
import { validateBody } from "../validate.js";

export function responsesRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/responses", async (request, reply) => {
    const key = await g.authenticate(request);
    return withRequestSpan(g, request, reply, key, (rt) => {
      const r = validateBody(ResponsesRequestSchema, request.body);
      return serveChat(g, request, reply, key, responsesToChatRequest(r), responsesDialect(r), rt);
    });
  });
}

function responsesDialect(r: ResponsesRequest): ChatDialect {
  return {
    // Stratum's extension as on chat completions.
    json: (c, stratum) => ({ ...chatCompletionToResponse(c, r), stratum }),
    stream: () => {
      const encoder = new ResponsesStreamEncoder(r);
      return {
        chunk: (chunk) => encoder.push(chunk),
        end: (usage) => encoder.end(usage()),
        error: (err) => encoder.error(err.body.error.code ?? err.body.error.type, err.body.error.message),
      };
    },
  };
}
