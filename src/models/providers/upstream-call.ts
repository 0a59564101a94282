// One POST to an upstream on undici's dispatch API: the response arrives in
// callbacks (status, then body buffers), with no Readable body stream and no
// promise per chunk. A non-2xx response becomes the mapped upstream error (its
// body read only up to MAX_ERROR_BODY, then the connection dropped); a 2xx
// body goes to a BodySink. An abort of `ctx` ends the call with its reason, also
// while the call still waits in the pool's queue. Every call carries the
// request's id as `x-request-id`, so upstream logs can be matched with ours.
import type { Dispatcher, Pool } from "undici";
import type { StratumError } from "../../core/errors.js";
import type { CallContext } from "../provider.js";
import { MAX_ERROR_BODY, networkError, upstreamHttpError } from "./http-errors.js";

/** The running call, as a 2xx body's reader sees it. */
export interface CallHandle {
  /** Drop the response and its connection; the sink hears nothing more. */
  abort(reason: Error): void;
  /** Stop / restart reading from the socket (backpressure). */
  pause(): void;
  resume(): void;
}

/** Where a call's outcome goes: exactly one of fail(), or start() then data()* then end() or fail(). */
export interface BodySink {
  /** A 2xx response started. */
  start(call: CallHandle): void;
  data(chunk: Buffer): void;
  end(): void;
  /** The mapped error: transport failure, abort, or a non-2xx response. */
  fail(err: StratumError): void;
}

const is2xx = (status: number) => status >= 200 && status < 300;
const noop = () => {};

export const toText = (chunks: Buffer[]): string => (chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"));

/** `headers` plus the request id, copied key by key (`{ ...headers, id }` costs ~0.8 µs on Node 20, the copy ~0.1 µs). */
function withRequestId(headers: Record<string, string>, requestId: string): Record<string, string> {
  const h: Record<string, string> = {};
  for (const k in headers) h[k] = headers[k]!;
  h["x-request-id"] = requestId;
  return h;
}

/** POST `body` with the provider's `headers` (the request id is added here). */
export function dispatchPost(pool: Pool, path: string, headers: Record<string, string>, body: string, ctx: CallContext, deployment: string, sink: BodySink): void {
  let controller: Dispatcher.DispatchController | undefined;
  /** Set once the sink has heard its last word (ended, failed or aborted by its reader). */
  let over = false;
  let abortWith: Error | undefined;
  let status = 0;
  let resHeaders: Record<string, string | string[] | undefined> = {};
  const errChunks: Buffer[] = [];
  let errBytes = 0;

  let stopListening = noop;
  const settle = () => {
    over = true;
    stopListening();
  };
  const fail = (err: StratumError) => {
    if (over) return;
    settle();
    sink.fail(err);
  };
  const abort = (reason: Error) => {
    if (controller) controller.abort(reason);
    else abortWith = reason; // still queued: dropped as soon as it would start
  };
  function onAbort(why: unknown) {
    fail(networkError(why, deployment));
    abort(why instanceof Error ? why : new Error(String(why)));
  }
  const httpError = () => upstreamHttpError(status, resHeaders, toText(errChunks).slice(0, MAX_ERROR_BODY), deployment);
  const handle: CallHandle = {
    abort(reason) {
      settle();
      abort(reason);
    },
    pause: () => controller?.pause(),
    resume: () => controller?.resume(),
  };

  stopListening = ctx.onAbort(onAbort);
  if (over) return; // aborted before it started: onAbort has failed the sink
  try {
    pool.dispatch(
      { method: "POST", path, headers: withRequestId(headers, ctx.requestId), body },
      {
        onRequestStart(c) {
          controller = c;
          if (abortWith) c.abort(abortWith);
        },
        onResponseStart(_c, statusCode, h) {
          status = statusCode;
          resHeaders = h;
          if (is2xx(status) && !over) sink.start(handle);
        },
        onResponseData(c, chunk) {
          if (over) return;
          if (is2xx(status)) return sink.data(chunk);
          errChunks.push(chunk);
          errBytes += chunk.length;
          // An error body is only read as far as its message needs.
          if (errBytes >= MAX_ERROR_BODY) {
            fail(httpError());
            c.abort(new Error("upstream error body capped"));
          }
        },
        onResponseEnd() {
          if (over) return;
          if (!is2xx(status)) return fail(httpError());
          settle();
          sink.end();
        },
        onResponseError(_c, err) {
          fail(networkError(err, deployment));
        },
      },
    );
  } catch (e) {
    fail(networkError(e, deployment));
  }
}
