// POST /v1/chat/completions — OpenAI Chat Completions, JSON and SSE.
import type { FastifyInstance } from "fastify";
import { toStratumError } from "../../core/errors.js";
import { countUsage } from "../../models/index.js";
import { ChunkAccumulator } from "../../protocol/chunks.js";
import { ChatRequestSchema, type ChatCompletionChunk } from "../../protocol/openai.js";
import { SSE_DONE, sseData } from "../../protocol/sse.js";
import { servedHeaders } from "../chat-flow.js";
import { toHttpError } from "../http-errors.js";
import { SseWriter } from "../sse-writer.js";
import { validateBody } from "../validate.js";
import type { GatewayContext } from "../context.js";

export function chatCompletionsRoute(app: FastifyInstance, g: GatewayContext): void {
  app.post("/v1/chat/completions", async (request, reply) => {
    const key = await g.authenticate(request);
    const req = validateBody(ChatRequestSchema, request.body);
    request.stratumModel = req.model;
    const ticket = await g.flow.admit(key, req, request.id);
    const noCache = request.headers["cache-control"]?.includes("no-cache") ?? false;
    const ctx = { tenant: key.tenant, signal: g.clientSignal(reply), requestId: request.id, noCache };

    if (!req.stream) {
      let served;
      try {
        served = await g.models.complete(ticket.alias, req, ctx);
      } catch (e) {
        g.flow.account(ticket, req, { status: toHttpError(e).status, stream: false });
        throw e;
      }
      g.flow.account(ticket, req, { served, status: 200, stream: false, usage: served.result.usage });
      const body = { ...served.result, stratum: { ...served.result.stratum, served_by: served.servedBy, cache: served.cache, attempts: served.attempts.length } };
      return reply.headers(servedHeaders(ticket, served)).send(body);
    }

    // Streaming: failover happens inside models.stream() before the first byte;
    // errors there are still ordinary HTTP errors.
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
    const includeUsage = req.stream_options?.include_usage === true;
    const acc = new ChunkAccumulator();
    let status = 200;
    try {
      for await (const chunk of served.result) {
        acc.push(chunk);
        if (out.isClosed) break; // the client left: stop reading, which releases the upstream
        if (chunk.choices.length === 0 && chunk.usage) continue; // usage goes last, below
        if (includeUsage) chunk.usage = null;
        else delete chunk.usage;
        await out.write(sseData(chunk));
      }
      if (includeUsage && !out.isClosed) {
        const usage = acc.usage ?? countUsage(req, acc.text, acc.toolCalls());
        const last: ChatCompletionChunk = { id: acc.completionId || `chatcmpl-${request.id}`, object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: req.model, choices: [], usage };
        await out.write(sseData(last));
      }
      out.end(SSE_DONE);
    } catch (e) {
      // After the first byte the status is already 200: report in-band, then [DONE].
      const err = toHttpError(e);
      status = err.status;
      request.stratumStatus = status;
      g.log.warn({ reqId: request.id, err: toStratumError(e).message }, "stream failed after it started");
      await out.write(sseData(err.body));
      out.end(SSE_DONE);
    } finally {
      if (acc.firstContentAt) g.metrics.ttft.observe({ model: g.models.hasModel(req.model) ? req.model : "unknown" }, (acc.firstContentAt - request.stratumStart) / 1000);
      if (out.isClosed && !acc.finished && status === 200) status = 499; // client closed
      request.stratumStatus = status;
      g.flow.account(ticket, req, { served, status, stream: true, usage: acc.usage, text: acc.text, toolCalls: acc.toolCalls() });
    }
  });
}
