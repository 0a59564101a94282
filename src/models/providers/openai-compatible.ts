// OpenAI-compatible HTTP provider (OpenAI, vLLM, llama.cpp server, Ollama,
// LM Studio) over the shared undici transport (upstream-http.ts). This is the
// gateway's hot path.
import type { OpenAIProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from "../../protocol/openai.js";
import { keepJsonText } from "../../protocol/raw-json.js";
import type { SSEEvent } from "../../protocol/sse.js";
import type { CallContext, ChatProvider } from "../provider.js";
import { countUsage } from "../tokenizer.js";
import { extractUpstreamMessage } from "./http-errors.js";
import { SseChunkStream, type ChunkTranslator } from "./sse-chunk-stream.js";
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

/** OpenAI SSE events → chunks: one chunk per event until [DONE]. */
class OpenAIChunkTranslator implements ChunkTranslator {
  ended = false;
  /** A chunk with a finish_reason was seen. */
  private finished = false;

  constructor(private readonly deployment: string) {}

  event(ev: SSEEvent): ChatCompletionChunk | undefined {
    const chunk = decodeEvent(ev, this.deployment);
    if (chunk === "done") {
      this.ended = true;
      return undefined;
    }
    if (!this.finished && chunk.choices.some((c) => c?.finish_reason)) this.finished = true;
    return chunk;
  }

  bodyEnded(): void {
    // Servers that omit [DONE] are tolerated once the completion finished; a
    // stream that just stops mid-answer is a truncation.
    if (!this.finished) throw new StratumError("UpstreamProtocol", `upstream ${this.deployment} stream ended before completion`);
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
        // Some local servers omit usage; count it so accounting still works (a copy: the parsed answer keeps its text).
        const message = out.choices[0]?.message;
        return { ...out, usage: countUsage(req, message?.content ?? "", message?.tool_calls) };
      }
      return out;
    },

    async stream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatCompletionChunk>> {
      // Usage is always requested so accounting is exact; the gateway decides what to forward.
      const body = JSON.stringify(withoutStratum({ ...req, stream: true, stream_options: { ...req.stream_options, include_usage: true } }));
      const res = await requestStream(up.get(ctx.connectTimeoutMs), chatPath, streamBase, body, ctx, name);
      return eventStream(res, (chunks) => new SseChunkStream(chunks, new OpenAIChunkTranslator(name), MAX_EVENT_BYTES), name);
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
