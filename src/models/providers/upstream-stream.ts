// A 2xx streamed body as an async iterable of buffers, fed by an upstream
// call's callbacks (upstream-call.ts) instead of a Readable: one promise per
// read only when the reader is ahead of the socket, a bounded queue (reading
// from the socket pauses above HIGH_WATER buffers) when it is behind.
// Iterating to the end, or `return()`, never drops the connection: the owner
// decides with drain() (let the tail arrive so the keep-alive connection goes
// back to the pool) or destroy().
import { nextOrWait, type BufferedAsyncIterator } from "../../core/buffered-iterator.js";
import type { StratumError } from "../../core/errors.js";
import type { BodySink, CallHandle } from "./upstream-call.js";

const HIGH_WATER = 16;
const LOW_WATER = 4;
const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export class StreamBody implements BodySink, AsyncIterableIterator<Buffer>, BufferedAsyncIterator<Buffer> {
  private call: CallHandle | undefined;
  private readonly queue: Buffer[] = [];
  private waiter: { resolve(r: IteratorResult<Buffer>): void; reject(e: unknown): void } | undefined;
  private ended = false;
  private error: StratumError | undefined;
  private paused = false;
  /** The reader is done with the body: later data is dropped. */
  private discarding = false;
  private drainTimer: NodeJS.Timeout | undefined;

  /** `started` hears the response's start or the call's failure before it. */
  constructor(private readonly started: { resolve(b: StreamBody): void; reject(e: unknown): void }) {}

  start(call: CallHandle): void {
    this.call = call;
    this.started.resolve(this);
  }

  data(chunk: Buffer): void {
    if (this.discarding) return;
    const w = this.takeWaiter();
    if (w) return w.resolve({ done: false, value: chunk });
    this.queue.push(chunk);
    if (this.queue.length >= HIGH_WATER && !this.paused) {
      this.paused = true;
      this.call?.pause();
    }
  }

  end(): void {
    this.ended = true;
    clearTimeout(this.drainTimer);
    this.takeWaiter()?.resolve(DONE);
  }

  fail(err: StratumError): void {
    if (!this.call) return this.started.reject(err);
    this.error = err;
    clearTimeout(this.drainTimer);
    this.takeWaiter()?.reject(err);
  }

  next(): Promise<IteratorResult<Buffer, undefined>> {
    return nextOrWait(this, () => new Promise((resolve, reject) => (this.waiter = { resolve, reject })));
  }

  /** A buffer already received, the end, or the failure; undefined while waiting for the socket. */
  nextBuffered(): IteratorResult<Buffer, undefined> | undefined {
    const value = this.queue.shift();
    if (value) {
      if (this.paused && this.queue.length <= LOW_WATER) {
        this.paused = false;
        this.call?.resume();
      }
      return { done: false, value };
    }
    if (this.error) throw this.error;
    if (this.ended || this.discarding) return DONE;
    return undefined;
  }

  /** Stop iterating (the connection stays until drain() or destroy()). */
  return(): Promise<IteratorResult<Buffer>> {
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Done reading: let the rest of the response arrive (the connection then goes back to the pool), or drop it after `ms`. */
  drain(ms: number): void {
    this.stopReading();
    if (this.ended || this.error) return;
    this.drainTimer = setTimeout(() => this.destroy(), ms);
    this.drainTimer.unref();
  }

  /** Drop the response and its connection. */
  destroy(): void {
    this.stopReading();
    clearTimeout(this.drainTimer);
    if (this.ended || this.error) return;
    this.ended = true;
    this.call?.abort(new Error("upstream stream released"));
  }

  private stopReading(): void {
    this.discarding = true;
    this.queue.length = 0;
    if (this.paused) {
      this.paused = false;
      this.call?.resume();
    }
    this.takeWaiter()?.resolve(DONE);
  }

  /** The pending next(), handed over exactly once. */
  private takeWaiter() {
    const w = this.waiter;
    this.waiter = undefined;
    return w;
  }
}
