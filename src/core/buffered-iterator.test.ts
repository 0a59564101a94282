import { test } from "node:test";
import assert from "node:assert/strict";
import { forEachBuffered, type BufferedAsyncIterator } from "./buffered-iterator.js";
import { tapIterator } from "./tap-iterator.js";

const DONE = { done: true, value: undefined } as const;

/**
 * A source whose values arrive in batches: `nextBuffered()` hands out the
 * current batch, `next()` waits a macrotask for the next one. Counts how the
 * consumer asked, and whether it was closed.
 */
function batched(batches: number[][], failAfter?: number) {
  const state = { nextCalls: 0, bufferedTaken: 0, returned: 0 };
  let queue: number[] = [];
  let b = 0;
  let taken = 0;
  const fail = () => {
    if (failAfter !== undefined && taken >= failAfter) throw new Error("source broke");
  };
  const it: BufferedAsyncIterable = {
    nextBuffered() {
      fail();
      const v = queue.shift();
      if (v === undefined) return b >= batches.length ? DONE : undefined;
      taken++;
      state.bufferedTaken++;
      return { done: false, value: v };
    },
    async next() {
      state.nextCalls++;
      await new Promise((r) => setImmediate(r));
      fail();
      if (!queue.length && b < batches.length) queue = [...batches[b++]!];
      const v = queue.shift();
      if (v === undefined) return DONE;
      taken++;
      return { done: false, value: v };
    },
    async return() {
      state.returned++;
      return DONE;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return { it, state };
}
type BufferedAsyncIterable = BufferedAsyncIterator<number> & AsyncIterable<number>;

test("forEachBuffered takes buffered values without awaiting next(): one next() per batch", async () => {
  const { it, state } = batched([[1, 2, 3], [4, 5], [6]]);
  const seen: number[] = [];
  await forEachBuffered(it, (v) => (seen.push(v), true));
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  assert.equal(state.bufferedTaken, 3, "all but the first of each batch came from nextBuffered()");
  assert.equal(state.nextCalls, 3, "one per batch; the end came from nextBuffered() too");
  assert.equal(state.returned, 0, "a source that ended is not closed again");
});

test("forEachBuffered over a plain async iterable (no nextBuffered) is for-await", async () => {
  async function* gen() {
    yield 1;
    yield 2;
  }
  const seen: number[] = [];
  await forEachBuffered(gen(), (v) => (seen.push(v), true));
  assert.deepEqual(seen, [1, 2]);
});

test("forEachBuffered: stopping early and a throwing body close the source; a failing source is not closed", async () => {
  const stop = batched([[1, 2, 3]]);
  const seen: number[] = [];
  await forEachBuffered(stop.it, (v) => (seen.push(v), v < 2));
  assert.deepEqual(seen, [1, 2]);
  assert.equal(stop.state.returned, 1);

  const throwing = batched([[1, 2]]);
  await assert.rejects(
    forEachBuffered(throwing.it, () => {
      throw new Error("body failed");
    }),
    /body failed/,
  );
  assert.equal(throwing.state.returned, 1);

  const broken = batched([[1, 2, 3]], 2);
  const got: number[] = [];
  await assert.rejects(forEachBuffered(broken.it, (v) => (got.push(v), true)), /source broke/);
  assert.deepEqual(got, [1, 2]);
  assert.equal(broken.state.returned, 0);
});

test("forEachBuffered awaits a body that returns a promise (backpressure) before taking the next value", async () => {
  const { it } = batched([[1, 2, 3]]);
  const order: string[] = [];
  await forEachBuffered(it, async (v) => {
    order.push(`start ${v}`);
    await new Promise((r) => setTimeout(r, 5));
    order.push(`end ${v}`);
    return true;
  });
  assert.deepEqual(order, ["start 1", "end 1", "start 2", "end 2", "start 3", "end 3"]);
});

test("tapIterator forwards nextBuffered; an async end found there is awaited by the next next()", async () => {
  const { it } = batched([[1, 2]]);
  const order: string[] = [];
  const tapped = tapIterator(it, {
    value: (v) => v * 10,
    end: async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push("end");
    },
  });
  assert.equal(tapped.nextBuffered(), undefined, "nothing received yet");
  assert.deepEqual(await tapped.next(), { done: false, value: 10 });
  assert.deepEqual(tapped.nextBuffered(), { done: false, value: 20 });
  assert.equal(tapped.nextBuffered(), undefined, "the source ended; its end is still running");
  assert.equal(tapped.nextBuffered(), undefined);
  assert.deepEqual(await tapped.next(), DONE);
  assert.deepEqual(order, ["end"]);
  assert.deepEqual(tapped.nextBuffered(), DONE);
});
