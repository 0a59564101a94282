// The provider contract: one upstream model API (OpenAI-compatible HTTP,
// Anthropic, sim, extractive...). Providers do one attempt; retries, timeouts
// between attempts, circuit breaking and fallback live in the router.
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from "../protocol/openai.js";

export interface CallContext {
  /** Aborted when the client goes away or the router's total timeout fires. */
  signal: AbortSignal;
  /** Max time to establish the upstream connection. */
  connectTimeoutMs: number;
  /** Request id for upstream correlation headers and logs. */
  requestId: string;
}

export interface ChatProvider {
  /** Provider type, e.g. "openai", "anthropic", "sim", "extractive". */
  readonly type: string;
  /**
   * One non-streaming completion. `req.model` is already the deployment's
   * upstream model name. Throws StratumError (Upstream* kinds) on failure.
   */
  chat(req: ChatRequest, ctx: CallContext): Promise<ChatCompletion>;
  /**
   * One streaming completion. Resolves once the upstream accepted the request
   * (status known); the iterator then yields chunks. Errors before the promise
   * resolves or before the first chunk allow failover; errors after the first
   * chunk are surfaced to the client as an error event.
   * The stream should include a final usage chunk when the upstream sends one.
   * When `ctx.signal` aborts, a pending `next()` must reject promptly (the
   * router relies on it for total timeouts mid-stream).
   */
  stream(req: ChatRequest, ctx: CallContext): Promise<AsyncIterable<ChatCompletionChunk>>;
  /** Embeddings, when the provider supports them. */
  embed?(req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
  /** Release pooled connections. */
  close?(): Promise<void>;
}
