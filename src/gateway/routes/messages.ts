// POST /v1/messages — Anthropic Messages inbound, translated to the canonical
// request and served through the same flow and router as chat completions.
import type { FastifyInstance } from "fastify";
import { toStratumError } from "../../core/errors.js";
import { estimatePromptTokens } from "../../models/index.js";
import {
  AnthropicRequestSchema,
  AnthropicStreamEncoder,
  anthropicErrorBody,
  anthropicErrorType,
  anthropicToChatRequest,
  chatCompletionToAnthropic,
} from "../../protocol/anthropic.js";
import type { ChatRequest } from "../../protocol/openai.js";
import type { GatewayContext } from "../context.js";
import { toHttpError } from "../http-errors.js";
import { withRequestSpan } from "../request-span.js";
import { serveChat, type ChatDialect } from "../serve-chat.js";
import { validateBody } from "../validate.js";

export function messagesRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/messages", { config: { errorShape: "anthropic" } }, async (request, reply) => {
    const key = await g.authenticate(request);
    return withRequestSpan(g, request, reply, key, (rt) => {
      const req = anthropicToChatRequest(validateBody(AnthropicRequestSchema, request.body));
      return serveChat(g, request, reply, key, req, anthropicDialect(req), rt);
    });
  });
}

function anthropicDialect(req: ChatRequest): ChatDialect {
  return {
    json: (c) => chatCompletionToAnthropic(c, req.model),
    stream: () => {
      // message_start carries an estimate; message_delta carries the real count at the end.
      const encoder = new AnthropicStreamEncoder(req.model, estimatePromptTokens(req));
      return {
        chunk: (chunk) => encoder.push(chunk),
        end: (usage) => encoder.end(usage()),
        error: (err, cause) => encoder.error(anthropicErrorType(toStratumError(cause).kind, err.status), err.body.error.message),
      };
    },
  };
}

/** Anthropic-shaped error body for errors on this route. */
export function anthropicError(e: unknown) {
  const http = toHttpError(e);
  return { ...http, body: anthropicErrorBody(anthropicErrorType(toStratumError(e).kind, http.status), http.body.error.message) };
}
