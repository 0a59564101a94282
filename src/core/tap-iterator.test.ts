import { test } from "node:test";
import assert from "node:assert/strict";
import { tapIterator } from "./tap-iterator.js";

/** 1..n, recording whether it was closed early. */
function counting(n: number) {
  const state = { closed: false, finished: false };
  async function* gen() {
    try {
      for (let i = 1; i <= n; i++) yield i;
      state.finished = true;
    } finally {
      state.closed = true;
    }
  }
  return { source: gen(), state };
}

test("values pass through the tap (which may replace them); end is awaited before the consumer hears done, once", async () => {
  const { source } = counting(3);
  const order: string[] = [];
  let ends = 0;
  const tapped = tapIterator(source, {
    value: (v) => (order.push(`v${v}`), v * 10),
    end: async () => {
      ends++;
      await new Promise((r) => setTimeout(r, 20));
      order.push("end");
    },
  });
  const got: number[] = [];
  for await (const v of tapped) got.push(v);
  order.push("done");
  assert.deepEqual(got, [10, 20, 30]);
  assert.deepEqual(order, ["v1", "v2", "v3", "end", "done"]);
  assert.deepEqual(await tapped.next(), { done: true, value: undefined });
  assert.equal(ends, 1);
});

test("a consumer that stops early closes the source, and end never runs", async () => {
  const { source, state } = counting(10);
  let ended = false;
  for await (const v of tapIterator(source, { end: () => void (ended = true) })) if (v === 2) break;
  assert.equal(state.closed, true);
  assert.equal(state.finished, false);
  assert.equal(ended, false);
});

test("a source failure reaches the consumer; a failing end reaches it after the last value", async () => {
  async function* failing() {
    yield 1;
    throw new Error("upstream broke");
  }
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const v of tapIterator(failing(), {})) seen.push(v);
  }, /upstream broke/);
  assert.deepEqual(seen, [1]);
  const { source } = counting(2);
  const got: number[] = [];
  await assert.rejects(async () => {
    for await (const v of tapIterator(source, { end: () => Promise.reject(new Error("store down")) })) got.push(v);
  }, /store down/);
  assert.deepEqual(got, [1, 2]);
});
