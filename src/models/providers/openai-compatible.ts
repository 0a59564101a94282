// OpenAI-compatible HTTP provider (OpenAI, vLLM, llama.cpp server, Ollama,
// LM Studio) over one undici Pool per provider. This is the gateway's hot
// path: undici's low-level request API, Node streams, no fetch.
// The first section is the transport shared with the Anthropic provider.
import { Pool, type Dispatcher } from "undici";
import type { OpenAIProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from "../../protocol/openai.js";
import { parseSSE, type SSEEvent } from "../../protocol/sse.js";
import type { CallContext, ChatProvider } from "../provider.js";
import { countUsage } from "../tokenizer.js";
import { MAX_ERROR_BODY, extractUpstreamMessage, networkError, upstreamHttpError } from "./http-errors.js";

// ---------------------------------------------------------------- shared transport

/** Largest single SSE event accepted from an upstream. */
export const MAX_EVENT_BYTES = 1 << 20;
/** After a clean end of stream, wait this long for the body's tail before giving up the connection. */
const DRAIN_MS = 1_000;

export type ResponseBody = Dispatcher.ResponseData["body"];

export interface UpstreamPool {
  /** baseUrl's path without a trailing slash ("" or e.g. "/v1"). */
  readonly prefix: string;
  get(connectTimeoutMs: number): Pool;
  close(): Promise<void>;
}

/**
 * One keep-alive Pool per provider. undici's connect timeout is a Pool option,
 * so the Pool is created on first use with that call's `connectTimeoutMs`
 * (the router passes the deployment's `timeouts.connectMs`); later calls
 * share it. Header/body timeouts are only backstops: the router owns
 * first-token and total timeouts and aborts through `ctx.signal`.
 */
export function upstreamPool(baseUrl: string, maxConnections: number): UpstreamPool {
  const url = new URL(baseUrl);
  let pool: Pool | undefined;
  return {
    prefix: url.pathname.replace(/\/+$/, ""),
    get(connectTimeoutMs) {
      pool ??= new Pool(url.origin, {
        connections: maxConnections,
        pipelining: 1,
        connectTimeout: connectTimeoutMs > 0 ? connectTimeoutMs : 10_000,
        keepAliveTimeout: 10_000,
        headersTimeout: 600_000,
        bodyTimeout: 600_000,
      });
      return pool;
    },
    async close() {
      await pool?.close();
    },
  };
}

async function readCapped(body: ResponseBody, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    chunks.push(c as Buffer);
    n += (c as Buffer).length;
    if (n >= limit) break; // leaving the loop destroys the rest of the body
  }
  return Buffer.concat(chunks).subarray(0, limit).toString("utf8");
}

/** POST a JSON body; resolves with a 2xx response, otherwise throws the mapped upstream error. */
export async function postJSON(
  pool: Pool,
  path: string,
  headers: Record<string, string>,
  body: string,
  ctx: CallContext,
  deployment: string,
): Promise<Dispatcher.ResponseData> {
  let res: Dispatcher.ResponseData;
  try {
    res = await pool.request({ method: "POST", path, headers, body, signal: ctx.signal });
  } catch (e) {
    throw networkError(e, deployment);
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return res;
  const text = await readCapped(res.body, MAX_ERROR_BODY).catch(() => "");
  throw upstreamHttpError(res.statusCode, res.headers, text, deployment);
}

/** Read a whole 2xx body as JSON; transport failures and garbage are mapped. */
export async function readJSON(body: ResponseBody, deployment: string): Promise<unknown> {
  let text: string;
  try {
    text = await body.text();
  } catch (e) {
    throw networkError(e, deployment);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new StratumError("UpstreamProtocol", `upstream ${deployment} returned invalid JSON: ${text.slice(0, 100)}`);
  }
}

/**
 * Wrap an SSE response body as an async iterator of decoded items, owning the
 * connection's lifecycle: on a clean end the tail is drained so the keep-alive
 * connection goes back to the pool; on error or early `return()` (consumer
 * broke out, even while a `next()` is pending) the body is destroyed, which
 * frees the pool slot. Errors are always StratumErrors.
 */
export function eventStream<T>(
  body: ResponseBody,
  decode: (events: AsyncIterable<SSEEvent>) => AsyncGenerator<T>,
  deployment: string,
): AsyncIterableIterator<T> {
  // destroyOnReturn: false lets a decoder stop at [DONE] without killing the socket.
  const gen = decode(parseSSE(body.iterator({ destroyOnReturn: false }), MAX_EVENT_BYTES));
  let settled = false;
  const release = (clean: boolean) => {
    if (settled) return;
    settled = true;
    // undici emits an abort error on destroy; nobody may be listening any more.
    body.on("error", () => {});
    if (!clean) {
      body.destroy();
      return;
    }
    const timer = setTimeout(() => body.destroy(), DRAIN_MS).unref();
    body.once("close", () => clearTimeout(timer));
    body.resume();
  };
  const it: AsyncIterableIterator<T> = {
    async next() {
      try {
        const r = await gen.next();
        if (r.done) release(true);
        return r;
      } catch (e) {
        release(false);
        throw networkError(e, deployment);
      }
    },
    async return(value?: unknown) {
      release(false);
      await gen.return(undefined).catch(() => {});
      return { done: true, value: value as T };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

// ---------------------------------------------------------------- OpenAI provider

function withoutStratum<T extends object>(req: T): T {
  if (!("stratum" in req)) return req;
  const { stratum: _drop, ...rest } = req as T & { stratum?: unknown };
  return rest as T;
}

function isCompletion(v: unknown): v is ChatCompletion {
  if (!v || typeof v !== "object") return false;
  const choices = (v as { choices?: unknown }).choices;
  return (
    Array.isArray(choices) &&
    choices.length > 0 &&
    choices.every((c) => c && typeof c === "object" && typeof (c as { message?: unknown }).message === "object" && (c as { message: unknown }).message !== null)
  );
}

/** An `{"error": ...}` object sent in place of a chunk. */
function midStreamError(obj: { error: unknown }, deployment: string): StratumError {
  const { message, code } = extractUpstreamMessage(JSON.stringify(obj));
  const status = Number((obj.error as { code?: unknown })?.code);
  const upstreamStatus = Number.isInteger(status) && status >= 400 && status < 600 ? status : 500;
  return new StratumError(upstreamStatus === 429 ? "UpstreamRateLimited" : "UpstreamError", `upstream ${deployment} stream error: ${message}`, {
    upstreamStatus,
    code,
  });
}

async function* decodeOpenAIStream(events: AsyncIterable<SSEEvent>, deployment: string): AsyncGenerator<ChatCompletionChunk> {
  let finished = false;
  for await (const ev of events) {
    if (ev.data === "[DONE]") return;
    let obj: unknown;
    try {
      obj = JSON.parse(ev.data);
    } catch {
      throw new StratumError("UpstreamProtocol", `upstream ${deployment} sent malformed JSON in its stream: ${ev.data.slice(0, 100)}`);
    }
    if (obj && typeof obj === "object" && "error" in obj && obj.error) throw midStreamError(obj as { error: unknown }, deployment);
    const choices = (obj as { choices?: unknown } | null)?.choices;
    if (!Array.isArray(choices)) throw new StratumError("UpstreamProtocol", `upstream ${deployment} sent a stream event that is not a chunk`);
    if (choices.some((c: { finish_reason?: unknown }) => c?.finish_reason)) finished = true;
    yield obj as ChatCompletionChunk;
  }
  // Servers that omit [DONE] are tolerated once the completion finished; a
  // stream that just stops mid-answer is a truncation.
  if (!finished) throw new StratumError("UpstreamProtocol", `upstream ${deployment} stream ended before completion`);
}

export function createOpenAIProvider(name: string, cfg: OpenAIProviderConfig): ChatProvider {
  const up = upstreamPool(cfg.baseUrl, cfg.maxConnections);
  const chatPath = `${up.prefix}/chat/completions`;
  const embedPath = `${up.prefix}/embeddings`;
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(cfg.headers)) base[k.toLowerCase()] = v;
  base["content-type"] = "application/json";
  if (cfg.apiKey) base.authorization = `Bearer ${cfg.apiKey.reveal()}`;
  const streamBase = { ...base, accept: "text/event-stream" };

  return {
    type: "openai",

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
      const body = JSON.stringify(withoutStratum({ ...req, stream: false, stream_options: undefined }));
      const res = await postJSON(up.get(ctx.connectTimeoutMs), chatPath, { ...base, "x-request-id": ctx.requestId }, body, ctx, name);
      const out = await readJSON(res.body, name);
      if (!isCompletion(out)) throw new StratumError("UpstreamProtocol", `upstream ${name} returned a body that is not a chat completion`);
      if (!out.usage) {
        // Some local servers omit usage; estimate so accounting still works.
        const message = out.choices[0]?.message;
        out.usage = countUsage(req, message?.content ?? "", message?.tool_calls);
      }
      return out;
    },

    async stream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatCompletionChunk>> {
      // Usage is always requested so accounting is exact; the gateway decides what to forward.
      const body = JSON.stringify(withoutStratum({ ...req, stream: true, stream_options: { ...req.stream_options, include_usage: true } }));
      const res = await postJSON(up.get(ctx.connectTimeoutMs), chatPath, { ...streamBase, "x-request-id": ctx.requestId }, body, ctx, name);
      return eventStream(res.body, (events) => decodeOpenAIStream(events, name), name);
    },

    async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const res = await postJSON(up.get(ctx.connectTimeoutMs), embedPath, { ...base, "x-request-id": ctx.requestId }, JSON.stringify(withoutStratum(req)), ctx, name);
      const out = await readJSON(res.body, name);
      if (!out || typeof out !== "object" || !Array.isArray((out as { data?: unknown }).data)) {
        throw new StratumError("UpstreamProtocol", `upstream ${name} returned a body that is not an embedding list`);
      }
      return out as EmbeddingResponse;
    },

    close: () => up.close(),
  };
}
