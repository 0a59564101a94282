// Serving one canonical chat request, JSON or SSE, for any inbound API. The
// API-specific part (OpenAI or Anthropic wire format) is a ChatDialect; the
// rest — admission, model call, streaming with backpressure, in-band errors
// after the first byte, metering — is the same for all.
import type { FastifyReply, FastifyRequest } from "fastify";
import { StratumError, toStratumError } from "../core/errors.js";
import type { ApiKeyRecord } from "../data/types.js";
import { countUsage, estimatePromptTokens, type Served } from "../models/index.js";
import { ChunkAccumulator } from "../protocol/chunks.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from "../protocol/openai.js";
import type { TurnContext } from "../pipelines/index.js";
import { servedHeaders, type Ticket } from "./chat-flow.js";
import type { GatewayContext } from "./context.js";
import { toHttpError, type HttpError } from "./http-errors.js";
import { SseWriter } from "./sse-writer.js";

/** Encodes one streamed response in an inbound API's wire format. */
export interface StreamEncoder {
  /** SSE text for one upstream chunk ("" to send nothing). */
  chunk(chunk: ChatCompletionChunk): string;
  /** SSE text that closes a complete stream; `usage` is exact (upstream or counted). */
  end(usage: () => Usage, acc: ChunkAccumulator): string;
  /** SSE text that reports a failure after the first byte and closes the stream. */
  error(err: HttpError, cause: unknown): string;
}

export interface ChatDialect {
  /** The JSON response body for a whole completion. */
  json(completion: ChatCompletion, served: { servedBy: string; cache: string; attempts: number }): unknown;
  stream(): StreamEncoder;
}

export async function serveChat(
  g: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  key: ApiKeyRecord,
  req: ChatRequest,
  dialect: ChatDialect,
): Promise<unknown> {
  request.stratumModel = req.model;
  const ticket = await g.flow.admit(key, { model: req.model, user: req.user, estimatePromptTokens: () => estimatePromptTokens(req) }, request.id);
  const noCache = request.headers["cache-control"]?.includes("no-cache") ?? false;
  const sessionId = sessionIdOf(request);
  const ctx: TurnContext = { tenant: key.tenant, signal: g.clientSignal(reply), requestId: request.id, noCache, ...(sessionId ? { sessionId } : {}), ...(req.user ? { user: req.user } : {}) };
  const stream = req.stream === true;

  // Failover happens inside the model layer before the first byte, so any
  // error here is still an ordinary HTTP error.
  let served;
  try {
    served = stream ? await g.models.stream(ticket.alias, req, ctx) : await g.models.complete(ticket.alias, req, ctx);
  } catch (e) {
    g.flow.account(ticket, { status: toHttpError(e).status, stream });
    throw e;
  }

  if (!stream) {
    const completion = served.result as ChatCompletion;
    g.flow.account(ticket, { served, status: 200, stream: false, usage: completion.usage });
    const body = dialect.json(completion, { servedBy: served.servedBy, cache: served.cache, attempts: served.attempts.length });
    return reply.headers(responseHeaders(ticket, served, ctx)).send(body);
  }

  reply.hijack();
  request.stratumStatus = 200;
  const out = new SseWriter(reply.raw);
  out.start({ "x-request-id": request.id, ...responseHeaders(ticket, served, ctx) });
  const encoder = dialect.stream();
  const acc = new ChunkAccumulator();
  let status = 200;
  try {
    for await (const chunk of served.result as AsyncIterable<ChatCompletionChunk>) {
      acc.push(chunk);
      if (out.isClosed) break; // the client left: stop reading, which releases the upstream
      const text = encoder.chunk(chunk);
      if (text && !out.send(text)) await out.drained();
    }
    if (!out.isClosed) out.end(encoder.end(() => acc.usage ?? countUsage(req, acc.text, acc.toolCalls()), acc));
  } catch (e) {
    // After the first byte the status is already 200: report in-band, then close.
    const err = toHttpError(e);
    status = err.status;
    request.stratumStatus = status;
    g.log.warn({ reqId: request.id, err: toStratumError(e).message }, "stream failed after it started");
    out.end(encoder.error(err, e));
  } finally {
    if (acc.firstContentAt) g.metrics.ttft.observe({ model: g.models.hasModel(req.model) ? req.model : "unknown" }, (acc.firstContentAt - request.stratumStart) / 1000);
    if (out.isClosed && !acc.finished && status === 200) status = 499; // client closed
    request.stratumStatus = status;
    g.flow.account(ticket, { served, status, stream: true, usage: acc.usage, countUsage: () => countUsage(req, acc.text, acc.toolCalls()) });
  }
}

function responseHeaders(ticket: Ticket, served: Served<unknown>, ctx: TurnContext): Record<string, string> {
  const h = servedHeaders(ticket, served);
  if (ctx.sessionId) h["x-session-id"] = ctx.sessionId;
  return h;
}

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** X-Session-Id: the server keeps the conversation under it. */
function sessionIdOf(request: FastifyRequest): string | undefined {
  const raw = request.headers["x-session-id"];
  if (raw === undefined) return undefined;
  if (typeof raw !== "string" || !SESSION_ID.test(raw)) {
    throw new StratumError("InvalidRequest", "X-Session-Id must be 1-128 characters of letters, digits, . _ : -", { param: "X-Session-Id", code: "invalid_session_id" });
  }
  return raw;
}
