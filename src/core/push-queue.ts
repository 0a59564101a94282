// A callback API read as an async iterator: the producer pushes items as its
// callbacks fire, the consumer iterates. Items pushed before the consumer asks
// wait in order, and `nextBuffered()` hands them out without a promise each
// (buffered-iterator.ts). After `fail(err)` the items already pushed still
// come first, then the error; after `end()` they come, then done. A consumer
// that stops early (`return()`) drops what is left and tells the producer
// through `onReturn`, so it can stop producing.
import { nextOrWait, type BufferedAsyncIterator } from "./buffered-iterator.js";

export class PushQueue<T> implements BufferedAsyncIterator<T>, AsyncIterable<T> {
  private items: T[] = [];
  private waiting: { resolve(r: IteratorResult<T, undefined>): void; reject(e: unknown): void } | undefined;
  private closed = false;
  private failed = false;
  private error: unknown;

  constructor(private readonly onReturn: () => void = () => {}) {}

  push(item: T): void {
    if (this.closed) return;
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w.resolve({ value: item, done: false });
    } else this.items.push(item);
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.waiting?.resolve({ value: undefined, done: true });
    this.waiting = undefined;
  }

  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const w = this.waiting;
    this.waiting = undefined;
    if (w) return w.reject(err); // a consumer waits, so nothing is queued before the error
    this.failed = true;
    this.error = err;
  }

  nextBuffered(): IteratorResult<T, undefined> | undefined {
    if (this.items.length) return { value: this.items.shift()!, done: false };
    if (!this.closed) return undefined;
    if (this.failed) {
      this.failed = false;
      throw this.error;
    }
    return { value: undefined, done: true };
  }

  next(): Promise<IteratorResult<T, undefined>> {
    return nextOrWait(this, () => new Promise((resolve, reject) => (this.waiting = { resolve, reject })));
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.items = [];
    if (!this.closed) {
      this.closed = true;
      this.onReturn();
    }
    this.failed = false;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
