// Watching the values of an async iterable on their way to its consumer
// (caching a streamed answer, keeping it in a session) without an async
// generator: a generator costs several promise steps per value (~0.5 µs a
// streamed chunk, ~9 µs an answer of 19 chunks); this adds one `.then`, or
// nothing when the consumer takes values the source already holds
// (buffered-iterator.ts).
import { nextBuffered, type BufferedAsyncIterator } from "./buffered-iterator.js";

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

export interface Tap<T> {
  /** Sees each value; the consumer gets what it returns. */
  value?(v: T): T;
  /** The source ended; the consumer hears the end once this settles (a rejection reaches the consumer). */
  end?(): void | Promise<void>;
}

/**
 * `source` through `tap`. A consumer that stops early (`return()`, as
 * for-await does on break or throw) stops the source too; `end` then never runs.
 */
export function tapIterator<T>(source: AsyncIterable<T>, tap: Tap<T>): AsyncIterableIterator<T> & BufferedAsyncIterator<T> {
  const it = source[Symbol.asyncIterator]();
  let ended = false;
  /** The end, when the source ended inside nextBuffered() and `tap.end` has to be awaited. */
  let ending: Promise<IteratorResult<T, undefined>> | undefined;
  const step = (r: IteratorResult<T>): IteratorResult<T, undefined> | Promise<IteratorResult<T, undefined>> => {
    if (!r.done) return tap.value ? { done: false, value: tap.value(r.value) } : r;
    if (ended) return DONE;
    ended = true;
    const settled = tap.end?.();
    return settled ? settled.then(() => DONE) : DONE;
  };
  const tapped: AsyncIterableIterator<T> & BufferedAsyncIterator<T> = {
    next: () => {
      if (ending) {
        const end = ending;
        ending = undefined;
        return end;
      }
      return ended ? Promise.resolve(DONE) : it.next().then(step);
    },
    nextBuffered: () => {
      if (ending) return undefined;
      if (ended) return DONE;
      const r = nextBuffered(it);
      if (!r) return undefined;
      const out = step(r);
      if (!(out instanceof Promise)) return out;
      ending = out;
      return undefined;
    },
    return: async () => {
      if (!ended) {
        ended = true;
        await it.return?.();
      }
      return DONE;
    },
    [Symbol.asyncIterator]: () => tapped,
  };
  return tapped;
}
