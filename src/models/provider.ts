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
  /**
   * Aborted when the client goes away or a router timeout fires, with the
   * reason. The router builds it on first read: a provider that only needs to
   * hear about the abort should use onAbort.
   */
  readonly signal: AbortSignal;
  /**
   * Calls `listener(reason)` once when the call is aborted (at once if it
   * already is) and returns the function that unsubscribes it. Listeners must
   * not throw.
   */
  onAbort(listener: (reason: unknown) => void): () => void;
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

/** A CallContext on a caller's own AbortSignal (for calls made outside the router, and tests). */
export function signalCallContext(signal: AbortSignal, connectTimeoutMs: number, requestId: string): CallContext {
  return {
    signal,
    connectTimeoutMs,
    requestId,
    onAbort(listener) {
      if (signal.aborted) {
        listener(signal.reason);
        return () => {};
      }
      const onAbort = () => listener(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      return () => signal.removeEventListener("abort", onAbort);
    },
  };
}
