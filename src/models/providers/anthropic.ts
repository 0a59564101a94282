// Anthropic Messages API provider: canonical request -> POST /v1/messages ->
// canonical completion or chunks, over the same pooled transport as the
// OpenAI-compatible provider.
import type { AnthropicProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import {
  AnthropicStreamTranslator,
  anthropicMessageToChatCompletion,
  chatRequestToAnthropic,
  type AnthropicMessage,
} from "../../protocol/anthropic.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest } from "../../protocol/openai.js";
import type { CallContext, ChatProvider } from "../provider.js";
import { SseChunkStream } from "./sse-chunk-stream.js";
import { MAX_EVENT_BYTES, eventStream, requestJSON, requestStream, upstreamPool } from "./upstream-http.js";

function isMessage(v: unknown): v is AnthropicMessage {
  return !!v && typeof v === "object" && Array.isArray((v as { content?: unknown }).content) && typeof (v as { id?: unknown }).id === "string";
}

export function createAnthropicProvider(name: string, cfg: AnthropicProviderConfig): ChatProvider {
  const up = upstreamPool(cfg.baseUrl, cfg.maxConnections);
  // Accept both https://api.anthropic.com and https://api.anthropic.com/v1.
  const path = up.prefix.endsWith("/v1") ? `${up.prefix}/messages` : `${up.prefix}/v1/messages`;
  const base: Record<string, string> = { "content-type": "application/json", "anthropic-version": cfg.version };
  if (cfg.apiKey) base["x-api-key"] = cfg.apiKey.reveal();
  const streamBase = { ...base, accept: "text/event-stream" };

  return {
    type: "anthropic",

    async chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion> {
      const body = chatRequestToAnthropic(req, cfg.defaultMaxTokens);
      delete body.stream;
      const msg = await requestJSON(up.get(ctx.connectTimeoutMs), path, base, JSON.stringify(body), ctx, name);
      if (!isMessage(msg)) throw new StratumError("UpstreamProtocol", `upstream ${name} returned a body that is not a message`);
      return anthropicMessageToChatCompletion(msg);
    },

    async stream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatCompletionChunk>> {
      const body = chatRequestToAnthropic(req, cfg.defaultMaxTokens);
      body.stream = true;
      const res = await requestStream(up.get(ctx.connectTimeoutMs), path, streamBase, JSON.stringify(body), ctx, name);
      const id = `chatcmpl-${ctx.requestId}`;
      return eventStream(res, (chunks) => new SseChunkStream(chunks, new AnthropicStreamTranslator(id, req.model), MAX_EVENT_BYTES), name);
    },

    close: () => up.close(),
  };
}
