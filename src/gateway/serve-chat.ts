// Serving one canonical chat request, JSON or SSE, for any inbound API. The
// API-specific part (OpenAI or Anthropic wire format) is a ChatDialect; the
// rest — admission, model call, streaming with backpressure, in-band errors
// after the first byte, metering — is the same for all.
import type { FastifyReply, FastifyRequest } from "fastify";
import { forEachBuffered } from "../core/buffered-iterator.js";
import { StratumError, toStratumError } from "../core/errors.js";
import type { ApiKeyRecord } from "../data/types.js";
import { countUsage, estimatePromptTokens, type Served } from "../models/index.js";
import { ChunkAccumulator } from "../protocol/chunks.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from "../protocol/openai.js";
import type { TurnContext } from "../pipelines/index.js";
import { servedHeaders, type Ticket } from "./chat-flow.js";
import type { GatewayContext } from "./context.js";
import { toHttpError, type HttpError } from "./http-errors.js";
import { sendJson } from "./send-json.js";
import { SseWriter } from "./sse-writer.js";
import { annotatePipeline, TRACE_ID_HEADER, type RequestTrace } from "./request-span.js";
import { recordAnswerQuality } from "./quality-metrics.js";

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
  /**
   * The JSON response body for a whole completion: an object to serialise, or its JSON text (a string).
   * `stratum`: Stratum's extension (how it was served, a pipeline's fields), for dialects that carry it.
   */
  json(completion: ChatCompletion, stratum: Record<string, unknown>): unknown;
  stream(): StreamEncoder;
}

export async function serveChat(
  g: GatewayContext,
  request: FastifyRequest,
  reply: FastifyReply,
  key: ApiKeyRecord,
  req: ChatRequest,
  dialect: ChatDialect,
  rt: RequestTrace | undefined,
): Promise<unknown> {
  request.stratumModel = req.model;
  const root = rt?.span;
  root?.setAttributes({ "stratum.model": req.model, "stratum.stream": req.stream === true, ...(req.user ? { "stratum.user": req.user } : {}) });
  const ticket = await g.flow.admit(key, { model: req.model, user: req.user, estimatePromptTokens: () => estimatePromptTokens(req) }, request.id, root);
  const noCache = request.headers["cache-control"]?.includes("no-cache") ?? false;
  const sessionId = sessionIdOf(request);
  // One shape for every request (absent fields undefined): conditional spreads cost a copy each and give
  // the object a shape per combination, which makes every reader of it polymorphic.
  const ctx: TurnContext = {
    tenant: key.tenant,
    signal: g.clientSignal(reply),
    requestId: request.id,
    noCache,
    trace: rt?.context,
    sessionId,
    user: req.user,
  };
  const stream = req.stream === true;
  if (sessionId) root?.setAttribute("stratum.session_id", sessionId);
  const traceId = rt?.traceId;

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
    let completion = served.result as ChatCompletion;
    // Pipeline answers (they carry stratum.pipeline): quality metrics; they name their trace and are offered to online evaluation.
    if (completion.stratum?.pipeline !== undefined) {
      recordAnswerQuality(g.metrics, completion.stratum, completion.choices[0]?.finish_reason);
      annotatePipeline(ticket.span, completion.stratum);
      if (traceId) {
        completion = { ...completion, stratum: { ...completion.stratum, trace_id: traceId } };
        const answered = completion;
        g.tracing?.offerForEval?.(() => ({ traceId, tenant: key.tenant, model: req.model, request: req, completion: answered }));
      }
    }
    g.flow.account(ticket, { served, status: 200, stream: false, usage: completion.usage });
    const body = dialect.json(completion, { ...completion.stratum, served_by: served.servedBy, cache: served.cache, attempts: served.attempts.length });
    return sendJson(reply.headers(responseHeaders(ticket, served, ctx, traceId)), body);
  }

  reply.hijack();
  request.stratumStatus = 200;
  const out = new SseWriter(reply.raw);
  out.start({ "x-request-id": request.id, ...responseHeaders(ticket, served, ctx, traceId) });
  const encoder = dialect.stream();
  const acc = new ChunkAccumulator();
  let status = 200;
  let ext: ChatCompletion["stratum"];
  let finishReason: string | null | undefined;
  try {
    // Chunks already received are taken without a promise each (buffered-iterator.ts).
    await forEachBuffered(served.result as AsyncIterable<ChatCompletionChunk>, (upstreamChunk) => {
      let chunk = upstreamChunk;
      if (chunk.stratum?.pipeline !== undefined) {
        if (traceId) chunk = { ...chunk, stratum: { ...chunk.stratum, trace_id: traceId } };
        ext = chunk.stratum;
        finishReason = chunk.choices[0]?.finish_reason;
      }
      acc.push(chunk);
      if (out.isClosed) return false; // the client left: stop reading, which releases the upstream
      const text = encoder.chunk(chunk);
      return !text || out.send(text) || out.drained().then(() => true);
    });
    if (!out.isClosed) out.end(encoder.end(() => acc.usage ?? countUsage(req, acc.text, acc.toolCalls()), acc));
    if (ext) {
      recordAnswerQuality(g.metrics, ext, finishReason);
      annotatePipeline(ticket.span, ext);
    }
    if (traceId && ext && acc.finished) {
      g.tracing?.offerForEval?.(() => {
        const whole = acc.toCompletion(acc.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
        return { traceId, tenant: key.tenant, model: req.model, request: req, completion: { ...whole, stratum: ext } };
      });
    }
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

function responseHeaders(ticket: Ticket, served: Served<unknown>, ctx: TurnContext, traceId: string | undefined): Record<string, string> {
  const h = servedHeaders(ticket, served);
  if (traceId) h[TRACE_ID_HEADER] = traceId;
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
