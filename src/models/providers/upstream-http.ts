// The HTTP transport shared by the OpenAI-compatible and Anthropic providers:
// one keep-alive undici Pool per provider, JSON posts with mapped errors, and
// SSE bodies wrapped as iterators that own the connection's lifecycle.
// undici's low-level request API and Node streams only: no fetch, no web streams.
import { Pool, type Dispatcher } from "undici";
import { StratumError } from "../../core/errors.js";
import type { CallContext } from "../provider.js";
import { MAX_ERROR_BODY, networkError, upstreamHttpError } from "./http-errors.js";

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
  decode: (chunks: AsyncIterable<Buffer>) => AsyncIterator<T>,
  deployment: string,
): AsyncIterableIterator<T> {
  // destroyOnReturn: false lets a decoder stop at [DONE] without killing the socket.
  const gen = decode(body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>);
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
    // A plain promise chain, not an async function: one less await per event.
    next() {
      return gen.next().then(
        (r) => {
          if (r.done) release(true);
          return r;
        },
        (e: unknown) => {
          release(false);
          throw networkError(e, deployment);
        },
      );
    },
    async return(value?: unknown) {
      release(false);
      await Promise.resolve(gen.return?.(undefined)).catch(() => {});
      return { done: true, value: value as T };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}

