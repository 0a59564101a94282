// A streamed answer arrives in a few network reads, each carrying many
// events; an async iterator still costs a promise and a microtask per item at
// every layer it passes through (~3 layers, ~20 chunks a short answer). An
// iterator that holds items already received can hand them out synchronously
// through `nextBuffered()`: a consumer asks that first and awaits `next()`
// only when it returns undefined. Layers that wrap such an iterator forward
// it; a source without it (a generator, a pipeline's stream) is just awaited.

/** An async iterator that can also hand out what it already holds, without waiting. */
export interface BufferedAsyncIterator<T> extends AsyncIterator<T, undefined> {
  /**
   * The next result if it is available now, or undefined when the caller has
   * to await `next()`. Throws what `next()` would reject with. Undefined
   * commits to nothing: the caller then calls `next()` as usual.
   */
  nextBuffered(): IteratorResult<T, undefined> | undefined;
}

/** The next result of `it` if it has one now (undefined when it has none or cannot say). */
export function nextBuffered<T>(it: AsyncIterator<T, undefined>): IteratorResult<T, undefined> | undefined {
  return (it as Partial<BufferedAsyncIterator<T>>).nextBuffered?.();
}

/**
 * `next()` of an iterator that holds what it received: its next result at once
 * if it has one (rejected if that is its failure), else `wait()`.
 */
export function nextOrWait<T>(it: BufferedAsyncIterator<T>, wait: () => Promise<IteratorResult<T, undefined>>): Promise<IteratorResult<T, undefined>> {
  try {
    const r = it.nextBuffered();
    if (r) return Promise.resolve(r);
  } catch (e) {
    return Promise.reject(e);
  }
  return wait();
}

/**
 * `nextBuffered(it)` through the handlers a wrapper's `it.next().then(onResult, onError)` uses,
 * so both ways out of the wrapper map results and errors alike.
 */
export function nextBufferedThen<T, U>(
  it: AsyncIterator<T, undefined>,
  onResult: (r: IteratorResult<T, undefined>) => U,
  onError: (e: unknown) => never,
): U | undefined {
  let r: IteratorResult<T, undefined> | undefined;
  try {
    r = nextBuffered(it);
  } catch (e) {
    return onError(e);
  }
  return r && onResult(r);
}

/**
 * `for await (const v of source)`, taking the items `source` already holds
 * without a promise each. `each` returns false to stop early; as for-await's
 * `break` (or a throw from the loop body) does, that calls the iterator's
 * `return()`. A failing `next()` does not (the iterator is done then).
 * `each` may return a promise (to wait for backpressure), which is awaited.
 */
export async function forEachBuffered<T>(source: AsyncIterable<T>, each: (v: T) => boolean | Promise<boolean>): Promise<void> {
  const it = source[Symbol.asyncIterator]() as AsyncIterator<T, undefined>;
  for (;;) {
    const r = nextBuffered(it) ?? (await it.next());
    if (r.done) return;
    let go: boolean;
    try {
      const g = each(r.value);
      go = typeof g === "boolean" ? g : await g;
    } catch (e) {
      // As for-await: close the source, and the loop body's error is the one reported.
      await Promise.resolve(it.return?.()).catch(() => undefined);
      throw e;
    }
    if (!go) {
      await it.return?.();
      return;
    }
  }
}
