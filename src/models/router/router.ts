// The router: model alias → deployments, weighted load balancing, retries with
// backoff on retryable failures only (within each deployment's retry budget),
// per-deployment circuit breakers and bulkheads, connect / first-token / total
// timeouts, and fallback chains.
// Retries happen here and only here (providers do one attempt each).
import type { Context } from "@opentelemetry/api";
import { nextBufferedThen, type BufferedAsyncIterator } from "../../core/buffered-iterator.js";
import { clientClosed, StratumError, toStratumError, type AttemptFailure, type ErrorKind } from "../../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingRequest, EmbeddingResponse } from "../../protocol/openai.js";
import type { RetryConfig } from "../../config/schema.js";
import type { AttemptContext } from "./attempt-context.js";
import { AttemptScope } from "./attempt-scope.js";
import { fullJitterBackoff, sleep } from "./backoff.js";
import type { Deployment, RoutedRequest, RouteTable } from "./route-table.js";
import { recordAttemptSpan, withModelCallSpan } from "./attempt-span.js";

export interface Attempt {
  deployment: string;
  alias: string;
  outcome: "success" | ErrorKind;
  status?: number;
  message?: string;
  durationMs: number;
}

export interface Routed<T> {
  result: T;
  /** The alias that served (differs from the requested one after a fallback). */
  alias: string;
  deployment: Deployment;
  attempts: Attempt[];
}

export interface RouterHooks {
  onAttempt?(attempt: Attempt): void;
  /** A failed attempt was worth a retry: `granted` false when the deployment's retry budget was spent. */
  onRetry?(deployment: string, granted: boolean): void;
}

export interface RouteOptions {
  signal: AbortSignal;
  requestId: string;
  /** Parent trace context for the `model.call` span (passed explicitly; there is no async-local context). */
  trace?: Context;
}

/** Upstream statuses that mean the request itself is wrong: no deployment will accept it. */
const CALLER_FAULT = new Set([400, 422]);

export class Router {
  constructor(
    private readonly table: RouteTable,
    private readonly hooks: RouterHooks = {},
  ) {}

  get routes(): RouteTable {
    return this.table;
  }

  chat(alias: string, req: ChatRequest, opts: RouteOptions): Promise<Routed<ChatCompletion>> {
    return this.run(alias, opts, "chat", (d, scope) => oneShot(d, scope, () => d.provider.chat({ ...req, model: d.model }, scope.ctx)), req);
  }

  /**
   * Resolves once the first chunk has arrived, so any failure before the first
   * byte fails over. The returned iterable yields that chunk again first; a
   * failure after it is thrown from the iterator (the gateway turns it into an
   * error event) and is never retried.
   */
  stream(alias: string, req: ChatRequest, opts: RouteOptions): Promise<Routed<AsyncIterable<ChatCompletionChunk>>> {
    return this.run(alias, opts, "chat", async (d, scope) => {
      let handedOver = false;
      try {
        scope.armFirstToken();
        const iterable = await scope.race(d.provider.stream({ ...req, model: d.model }, scope.ctx));
        const it = iterable[Symbol.asyncIterator]();
        const first = await scope.race(it.next()).catch((e) => {
          releaseIterator(it);
          throw e;
        });
        if (first.done) throw new StratumError("UpstreamProtocol", "upstream stream ended before the first chunk");
        scope.disarmFirstToken();
        handedOver = true;
        return this.relay(d, alias, scope, it, first.value);
      } finally {
        if (!handedOver) {
          scope.dispose();
          d.bulkhead.release();
        }
      }
    }, req);
  }

  embed(alias: string, req: EmbeddingRequest, opts: RouteOptions): Promise<Routed<EmbeddingResponse>> {
    // run() only picks deployments whose provider has embed().
    return this.run(alias, opts, "embed", (d, scope) => oneShot(d, scope, () => d.provider.embed!({ ...req, model: d.model }, scope.ctx)));
  }

  /**
   * The handed-over stream: `first`, then the provider's chunks. A plain
   * iterator (no async generator): one promise step per chunk. The attempt's
   * scope and bulkhead slot are released exactly once, when the stream
   * finishes, fails, or the consumer stops early (which also releases the upstream).
   */
  private relay(
    d: Deployment,
    alias: string,
    scope: AttemptScope,
    it: AsyncIterator<ChatCompletionChunk>,
    first: ChatCompletionChunk,
  ): AsyncIterableIterator<ChatCompletionChunk> {
    const started = performance.now();
    let pending: ChatCompletionChunk | undefined = first;
    let closed = false;
    const close = (how: "finished" | "failed" | "cancelled") => {
      if (closed) return;
      closed = true;
      scope.dispose();
      d.bulkhead.release();
      if (how === "finished") d.breaker.onSuccess();
      else if (how === "cancelled") {
        // The consumer stopped early (client went away): release the upstream.
        d.breaker.onCancel();
        releaseIterator(it);
      }
    };
    const onChunk = (r: IteratorResult<ChatCompletionChunk>): IteratorResult<ChatCompletionChunk> => {
      if (r.done) {
        close("finished");
        return { done: true, value: undefined };
      }
      return r;
    };
    const onError = (e: unknown): never => {
      if (scope.clientLeft) {
        // Ended because the client went away while a chunk was awaited: as
        // when the consumer stops early, not a failure of the deployment (a
        // chat UI's stop button must not open its circuit).
        close("cancelled");
        throw clientGone(scope.ctx.reason);
      }
      const err = this.classify(e, scope.ctx);
      if (!closed) {
        d.breaker.onFailure();
        const failed: Attempt = { deployment: d.id, alias, outcome: err.kind, status: err.upstreamStatus, message: `mid-stream: ${err.message}`, durationMs: performance.now() - started };
        recordAttemptSpan(failed, scope.trace);
        this.hooks.onAttempt?.(failed);
        close("failed");
      }
      throw new StratumError(err.kind, `stream from ${d.id} failed after it started: ${err.message}`, { upstreamStatus: err.upstreamStatus, retryable: false, cause: err });
    };
    const relayed: AsyncIterableIterator<ChatCompletionChunk> & BufferedAsyncIterator<ChatCompletionChunk> = {
      next() {
        let now: IteratorResult<ChatCompletionChunk, undefined> | undefined;
        try {
          now = relayed.nextBuffered();
        } catch (e) {
          return Promise.reject(e);
        }
        // No per-chunk race with the abort signal (it cost a promise and two
        // listener calls per chunk): providers end their iterator on abort.
        return now ? Promise.resolve(now) : it.next().then(onChunk, onError);
      },
      nextBuffered() {
        if (closed) return { done: true, value: undefined };
        if (pending) {
          const value = pending;
          pending = undefined;
          return { done: false, value };
        }
        return nextBufferedThen(it, onChunk, onError);
      },
      return() {
        close("cancelled");
        return Promise.resolve({ done: true, value: undefined });
      },
      [Symbol.asyncIterator]() {
        return relayed;
      },
    };
    return relayed;
  }

  /** `req`: the chat request, which complexity routing scores (none for embeddings). */
  private run<T>(alias: string, opts: RouteOptions, kind: "chat" | "embed", call: (d: Deployment, scope: AttemptScope) => Promise<T>, req?: RoutedRequest): Promise<Routed<T>> {
    return withModelCallSpan(alias, kind, opts.trace, (callTrace) => this.attemptAll(alias, opts, kind, call, callTrace, req));
  }

  private async attemptAll<T>(
    alias: string,
    opts: RouteOptions,
    kind: "chat" | "embed",
    call: (d: Deployment, scope: AttemptScope) => Promise<T>,
    callTrace: Context | undefined,
    req: RoutedRequest | undefined,
  ): Promise<Routed<T>> {
    const chain = this.table.chain(alias, kind);
    if (!chain.length) throw new StratumError("NotFound", `The model \`${alias}\` does not exist`, { code: "model_not_found", param: "model" });
    const retry = this.table.retry;
    const attempts: Attempt[] = [];

    for (const link of chain) {
      for (const d of this.table.pickOrder(link, req)) {
        if (kind === "embed" && !d.provider.embed) continue;
        d.retryBudget.request();
        for (let attempt = 0; attempt < retry.maxAttempts; attempt++) {
          if (opts.signal.aborted) throw clientGone(opts.signal.reason);
          if (!d.breaker.tryAcquire()) {
            this.record(attempts, callTrace, { deployment: d.id, alias: link, outcome: "CircuitOpen", message: `circuit open, retry in ${d.breaker.retryInMs()} ms`, durationMs: 0 });
            break;
          }
          if (!d.bulkhead.tryAcquire()) {
            d.breaker.onCancel();
            this.record(attempts, callTrace, { deployment: d.id, alias: link, outcome: "ConcurrencyLimited", message: "deployment at its concurrency limit", durationMs: 0 });
            break;
          }
          const scope = new AttemptScope(d, opts.signal, opts.requestId, callTrace);
          const t0 = performance.now();
          try {
            const result = await call(d, scope);
            const durationMs = performance.now() - t0;
            if (kind === "chat") d.latency?.observe(durationMs);
            this.record(attempts, callTrace, { deployment: d.id, alias: link, outcome: "success", durationMs });
            return { result, alias: link, deployment: d, attempts };
          } catch (e) {
            if (opts.signal.aborted) {
              d.breaker.onCancel();
              throw clientGone(opts.signal.reason);
            }
            const err = this.classify(e, scope.ctx);
            const callerFault = err.kind === "InvalidRequest" || (err.upstreamStatus !== undefined && CALLER_FAULT.has(err.upstreamStatus));
            const wantsRetry = !callerFault && retryWorthy(err, attempt, retry);
            const retrying = wantsRetry && d.retryBudget.tryRetry();
            if (wantsRetry) this.hooks.onRetry?.(d.id, retrying);
            const message = wantsRetry && !retrying ? `${err.message} (not retried: the deployment's retry budget is spent)` : err.message;
            this.record(attempts, callTrace, { deployment: d.id, alias: link, outcome: err.kind, status: err.upstreamStatus, message, durationMs: performance.now() - t0 });
            if (countsAgainstCircuit(err)) d.breaker.onFailure();
            else d.breaker.onCancel();
            if (callerFault) throw err;
            if (!retrying) break;
            const wait = Math.max(fullJitterBackoff(attempt, retry.baseMs, retry.capMs), err.retryAfterMs ?? 0);
            await sleep(wait, opts.signal).catch(() => {
              throw clientGone(opts.signal.reason);
            });
          }
        }
      }
    }
    throw allFailed(alias, attempts);
  }

  private record(attempts: Attempt[], callTrace: Context | undefined, a: Attempt): void {
    attempts.push(a);
    recordAttemptSpan(a, callTrace);
    this.hooks.onAttempt?.(a);
  }

  /** Prefer the timeout reason we aborted with over whatever the provider threw. */
  private classify(e: unknown, call: AttemptContext): StratumError {
    if (call.aborted && call.reason instanceof StratumError) return call.reason;
    return toStratumError(e);
  }
}

/** A single request/response attempt: success closes the breaker's books; slots are freed either way. */
function oneShot<T>(d: Deployment, scope: AttemptScope, call: () => Promise<T>): Promise<T> {
  // A promise chain, not an async function with try/finally: one promise less a request.
  let answer: Promise<T>;
  try {
    answer = call();
  } catch (e) {
    answer = Promise.reject(e); // a provider that throws instead of rejecting still frees its slots
  }
  return scope.race(answer).then(
    (out) => {
      scope.dispose();
      d.bulkhead.release();
      d.breaker.onSuccess();
      return out;
    },
    (e: unknown) => {
      scope.dispose();
      d.bulkhead.release();
      throw e;
    },
  );
}

/** Whether a failed attempt (not the caller's fault) is worth another on the same deployment; the retry budget decides whether it gets one. */
function retryWorthy(err: StratumError, attempt: number, retry: RetryConfig): boolean {
  if (!err.retryable || attempt + 1 >= retry.maxAttempts) return false;
  return err.retryAfterMs === undefined || err.retryAfterMs <= retry.maxRetryAfterMs;
}

/** 4xx other than 408/429 are not the deployment's health problem. */
function countsAgainstCircuit(err: StratumError): boolean {
  if (err.kind === "UpstreamRateLimited" || err.kind === "InvalidRequest") return false;
  if (err.upstreamStatus !== undefined && err.upstreamStatus >= 400 && err.upstreamStatus < 500 && err.upstreamStatus !== 408) return false;
  return true;
}

/** The error a request ends with when its client left (`reason`: the client signal's). */
function clientGone(reason: unknown): StratumError {
  return reason instanceof StratumError ? reason : clientClosed();
}

function allFailed(alias: string, attempts: Attempt[]): StratumError {
  const failures: AttemptFailure[] = attempts
    .filter((a) => a.outcome !== "success")
    // Internal errors stay in the logs; the client learns only that one happened.
    .map((a) => ({ deployment: a.deployment, kind: a.outcome as ErrorKind, status: a.status, message: a.outcome === "Internal" ? "internal error" : (a.message ?? a.outcome) }));
  const summary = failures.map((f) => `${f.deployment}: ${f.kind}${f.status ? ` ${f.status}` : ""} (${f.message})`).join("; ");
  const allRateLimited = failures.length > 0 && failures.every((f) => f.kind === "UpstreamRateLimited");
  return new StratumError("AllRoutesFailed", `All routes for model \`${alias}\` failed: ${summary || "no deployment available"}`, {
    attempts: failures,
    code: allRateLimited ? "upstream_rate_limited" : "all_routes_failed",
    upstreamStatus: allRateLimited ? 429 : undefined,
  });
}

/**
 * Ask a provider iterator to release its upstream. A failure to release is
 * not the request's outcome (that is already decided), so it is dropped here.
 */
function releaseIterator(it: AsyncIterator<unknown>): void {
  Promise.resolve(it.return?.()).catch(() => {});
}
