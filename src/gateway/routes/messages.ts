// POST /v1/messages — Anthropic Messages inbound, translated to the canonical
// request and served through the same flow and router as chat completions.
import type { FastifyInstance } from "fastify";
import { toStratumError } from "../../core/errors.js";
import { countUsage, estimatePromptTokens } from "../../models/index.js";
import { ChunkAccumulator } from "../../protocol/chunks.js";
import {
  AnthropicRequestSchema,
  AnthropicStreamEncoder,
  anthropicErrorBody,
  anthropicErrorType,
  anthropicToChatRequest,
  chatCompletionToAnthropic,
} from "../../protocol/anthropic.js";
import { servedHeaders } from "../chat-flow.js";
import { toHttpError } from "../http-errors.js";
import { SseWriter } from "../sse-writer.js";
import { validateBody } from "../validate.js";
import type { GatewayContext } from "../context.js";

export function messagesRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/messages", { config: { errorShape: "anthropic" } }, async (request, reply) => {
    const key = await g.authenticate(request);
    const areq = validateBody(AnthropicRequestSchema, request.body);
    const req = anthropicToChatRequest(areq);
    request.stratumModel = req.model;
    const ticket = await g.flow.admit(key, req, request.id);
    const ctx = { tenant: key.tenant, signal: g.clientSignal(reply), requestId: request.id };

    if (!areq.stream) {
      let served;
      try {
        served = await g.models.complete(ticket.alias, req, ctx);
      } catch (e) {
        g.flow.account(ticket, req, { status: toHttpError(e).status, stream: false });
        throw e;
      }
      g.flow.account(ticket, req, { served, status: 200, stream: false, usage: served.result.usage });
      return reply.headers(servedHeaders(ticket, served)).send(chatCompletionToAnthropic(served.result, req.model));
    }

    let served;
    try {
      served = await g.models.stream(ticket.alias, req, ctx);
    } catch (e) {
      g.flow.account(ticket, req, { status: toHttpError(e).status, stream: true });
      throw e;
    }
    reply.hijack();
    request.stratumStatus = 200;
    const out = new SseWriter(reply.raw);
    out.start({ "x-request-id": request.id, ...servedHeaders(ticket, served) });
    // message_start carries an estimate; message_delta carries the real count at the end.
    const encoder = new AnthropicStreamEncoder(req.model, estimatePromptTokens(req));
    const acc = new ChunkAccumulator();
    let status = 200;
    try {
      for await (const chunk of served.result) {
        acc.push(chunk);
        if (out.isClosed) break;
        const text = encoder.push(chunk);
        if (text) await out.write(text);
      }
      out.end(encoder.end(acc.usage ?? countUsage(req, acc.text, acc.toolCalls())));
    } catch (e) {
      const err = toHttpError(e);
      status = err.status;
      request.stratumStatus = status;
      g.log.warn({ reqId: request.id, err: toStratumError(e).message }, "stream failed after it started");
      out.end(encoder.error(anthropicErrorType(toStratumError(e).kind, err.status), err.body.error.message));
    } finally {
      if (acc.firstContentAt) g.metrics.ttft.observe({ model: g.models.hasModel(req.model) ? req.model : "unknown" }, (acc.firstContentAt - request.stratumStart) / 1000);
      if (out.isClosed && !acc.finished && status === 200) status = 499;
      request.stratumStatus = status;
      g.flow.account(ticket, req, { served, status, stream: true, usage: acc.usage, text: acc.text, toolCalls: acc.toolCalls() });
    }
  });
}

/** Anthropic-shaped error body for errors on this route. */
export function anthropicError(e: unknown) {
  const http = toHttpError(e);
  return { ...http, body: anthropicErrorBody(anthropicErrorType(toStratumError(e).kind, http.status), http.body.error.message) };
}
