// One abort signal per client connection, not per request. HTTP/1.1 has no
// way to cancel a request but closing its connection, so "the connection
// closed" is exactly "the client left" for every request on it; keep-alive
// requests on one connection run one after another and share the signal
// (a request's listeners are removed when its model call ends). Building an
// AbortController and the first listener on its signal costs ~4 µs on Node 20;
// a connection carries many requests.
import type { Socket } from "node:net";
import { clientClosed } from "../core/errors.js";

const CLIENT_SIGNAL = Symbol("stratum.clientSignal");
type WatchedSocket = Socket & { [CLIENT_SIGNAL]?: AbortSignal };

/** Aborts (with a `client_closed` error) when `socket` closes; the same signal for every request on it. */
export function connectionSignal(socket: Socket): AbortSignal {
  const s = socket as WatchedSocket;
  const known = s[CLIENT_SIGNAL];
  if (known) return known;
  const controller = new AbortController();
  const abort = () => controller.abort(clientClosed());
  if (s.destroyed) abort();
  else s.once("close", abort);
  s[CLIENT_SIGNAL] = controller.signal;
  return controller.signal;
}
