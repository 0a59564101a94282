// The CallContext of one attempt: its abort state, with listeners in a plain
// array. The AbortSignal is built only when a provider reads `signal`; the
// HTTP providers (the hot path) use onAbort, so an attempt costs no
// AbortController, no EventTarget and no listener objects (~4 µs a request on
// Node 20, and the signal was the largest single thing a request left in the
// old generation when it outlived two young-generation GCs).
import type { CallContext } from "../provider.js";

const noop = () => {};

export class AttemptContext implements CallContext {
  aborted = false;
  reason: unknown = undefined;
  private listeners: Array<(reason: unknown) => void> | undefined;
  private controller: AbortController | undefined;

  constructor(
    readonly connectTimeoutMs: number,
    readonly requestId: string,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  onAbort(listener: (reason: unknown) => void): () => void {
    if (this.aborted) {
      listener(this.reason);
      return noop;
    }
    (this.listeners ??= []).push(listener);
    return () => {
      const i = this.listeners ? this.listeners.indexOf(listener) : -1;
      if (i >= 0) this.listeners!.splice(i, 1);
    };
  }

  /** The first abort wins; later ones are ignored (as AbortController's). */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason ?? new DOMException("This operation was aborted", "AbortError");
    this.controller?.abort(this.reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners) for (const l of listeners) l(this.reason);
  }
}
