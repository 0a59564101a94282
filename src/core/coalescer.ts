// Coalescing of identical in-flight requests: the first caller starts the
// upstream call; identical callers that arrive before it settles share its
// result. The shared call is cancelled only when every waiter has gone.
import { StratumError } from "./errors.js";

interface Flight<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
}

/** Shares one call among identical in-flight requests (in process, or across replicas). */
export interface InFlightCoalescer<T> {
  run(key: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; shared: boolean }>;
}

export class Coalescer<T> implements InFlightCoalescer<T> {
  private readonly flights = new Map<string, Flight<T>>();

  /** Run `fn` once per key at a time. `shared` tells the caller it joined another's call. */
  async run(key: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<{ value: T; shared: boolean }> {
    let flight = this.flights.get(key);
    const shared = flight !== undefined;
    if (!flight) {
      const controller = new AbortController();
      const f: Flight<T> = { controller, waiters: 0, promise: fn(controller.signal) };
      flight = f;
      this.flights.set(key, f);
      f.promise.then(
        () => this.flights.delete(key),
        () => this.flights.delete(key),
      );
    }
    const f = flight;
    f.waiters++;
    const leave = () => {
      if (--f.waiters === 0 && this.flights.get(key) === f) {
        this.flights.delete(key);
        f.controller.abort(signal.reason ?? new StratumError("Unavailable", "every waiter left"));
      }
    };
    try {
      const value = await new Promise<T>((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        f.promise.then(
          (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
          (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
        );
      });
      return { value, shared };
    } finally {
      if (signal.aborted) leave();
      else f.waiters--;
    }
  }

  get size(): number {
    return this.flights.size;
  }
}
