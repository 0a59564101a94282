// OpenAI-compatible HTTP provider (OpenAI, vLLM, llama.cpp server, Ollama,
// LM Studio) over the shared undici transport (upstream-http.ts). This is the
// gateway's hot path.
import type { OpenAIProviderConfig } from "../../config/schema.js";
import { nextBuffered, type BufferedAsyncIterator } from "../../core/buffered-iterator.js";
import { StratumError } from "../../core/errors.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from "../../protocol/openai.js";
import { keepJsonText } from "../../protocol/raw-json.js";
import { SseDecoder, type SSEEvent } from "../../protocol/sse.js";
import type { CallContext, ChatProvider } from "../provider.js";
import { countUsage } from "../tokenizer.js";
import { extractUpstreamMessage } from "./http-errors.js";
import { MAX_EVENT_BYTES, eventStream, requestJSON, requestStream, upstreamPool } from "./upstream-http.js";

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

/** One SSE event as a chunk, or "done" at [DONE]. */
function decodeEvent(ev: SSEEvent, deployment: string): ChatCompletionChunk | "done" {
  if (ev.data === "[DONE]") return "done";
  let obj: unknown;
  try {
    obj = JSON.parse(ev.data);
  } catch {
    throw new StratumError("UpstreamProtocol", `upstream ${deployment} sent malformed JSON in its stream: ${ev.data.slice(0, 100)}`);
  }
  if (obj && typeof obj === "object" && "error" in obj && obj.error) throw midStreamError(obj as { error: unknown }, deployment);
  const choices = (obj as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) throw new StratumError("UpstreamProtocol", `upstream ${deployment} sent a stream event that is not a chunk`);
  // Kept for re-sending as is; a text spread over several data lines (raw newlines) would need re-framing.
  if (!ev.data.includes("\n") && !ev.data.includes("\r")) keepJsonText(obj as object, ev.data);
  return obj as ChatCompletionChunk;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };
const CLOSE = Symbol("close");

/**
 * Body chunks → completion chunks. SSE parsing is synchronous per body chunk;
 * every event already received is handed out by nextBuffered() without a
 * promise, or by next() as a resolved one: one body read per body chunk.
 */
class OpenAIStreamDecoder implements BufferedAsyncIterator<ChatCompletionChunk> {
  private readonly sse = new SseDecoder(MAX_EVENT_BYTES);
  private readonly body: AsyncIterator<Buffer>;
  private events: SSEEvent[] = [];
  private at = 0;
  /** A chunk with a finish_reason was seen. */
  private finished = false;
  /** The body ended (everything left is in `events`). */
  private ended = false;
  private done = false;
  /** nextBuffered() reached [DONE]: the next next() stops reading the body. */
  private closing = false;

  constructor(
    body: AsyncIterable<Buffer>,
    private readonly deployment: string,
  ) {
    this.body = body[Symbol.asyncIterator]();
  }

  next(): Promise<IteratorResult<ChatCompletionChunk, undefined>> {
    let r: IteratorResult<ChatCompletionChunk, undefined> | undefined;
    try {
      r = this.nextBuffered();
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.closing) {
      this.closing = false;
      return this.close();
    }
    return r ? Promise.resolve(r) : this.pull();
  }

  nextBuffered(): IteratorResult<ChatCompletionChunk, undefined> | undefined {
    if (this.closing) return undefined;
    try {
      for (;;) {
        const r = this.take();
        if (r === CLOSE) {
          this.closing = true;
          return undefined;
        }
        if (r) return r;
        // Out of parsed events: parse what the body already holds, if anything.
        const b = nextBuffered(this.body);
        if (!b) return undefined;
        this.feed(b);
      }
    } catch (e) {
      this.done = true;
      throw e;
    }
  }

  /** At [DONE]: stop reading the body (without destroying it, so its tail can drain) and end. */
  private async close(): Promise<IteratorReturnResult<undefined>> {
    await this.body.return?.();
    return DONE;
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    if (!this.done) {
      this.done = true;
      await this.body.return?.();
    }
    return DONE;
  }

  private feed(r: IteratorResult<Buffer>): void {
    if (r.done) {
      this.ended = true;
      this.events = this.sse.finish();
    } else this.events = this.sse.push(r.value);
    this.at = 0;
  }

  /** The next result from what is already parsed, or undefined when more body is needed. */
  private take(): IteratorResult<ChatCompletionChunk, undefined> | typeof CLOSE | undefined {
    if (this.done) return DONE;
    while (this.at < this.events.length) {
      const chunk = decodeEvent(this.events[this.at++]!, this.deployment);
      if (chunk === "done") {
        this.done = true;
        this.events = [];
        return CLOSE;
      }
      if (!this.finished && chunk.choices.some((c) => c?.finish_reason)) this.finished = true;
      return { done: false, value: chunk };
    }
    if (!this.ended) return undefined;
    this.done = true;
    // Servers that omit [DONE] are tolerated once the completion finished; a
    // stream that just stops mid-answer is a truncation.
    if (!this.finished) throw new StratumError("UpstreamProtocol", `upstream ${this.deployment} stream ended before completion`);
    return DONE;
  }

  private async pull(): Promise<IteratorResult<ChatCompletionChunk, undefined>> {
    try {
      for (;;) {
        this.feed(await this.body.next());
        const out = this.take();
        if (out === CLOSE) return await this.close();
        if (out) return out;
      }
    } catch (e) {
      this.done = true;
      throw e;
    }
  }
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
      const out = await requestJSON(up.get(ctx.connectTimeoutMs), chatPath, base, body, ctx, name);
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
      const res = await requestStream(up.get(ctx.connectTimeoutMs), chatPath, streamBase, body, ctx, name);
      return eventStream(res, (chunks) => new OpenAIStreamDecoder(chunks, name), name);
    },

    async embed(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
      const out = await requestJSON(up.get(ctx.connectTimeoutMs), embedPath, base, JSON.stringify(withoutStratum(req)), ctx, name);
      if (!out || typeof out !== "object" || !Array.isArray((out as { data?: unknown }).data)) {
        throw new StratumError("UpstreamProtocol", `upstream ${name} returned a body that is not an embedding list`);
      }
      return out as EmbeddingResponse;
    },

    close: () => up.close(),
  };
}
