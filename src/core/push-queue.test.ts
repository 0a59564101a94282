import { test } from "node:test";
import assert from "node:assert/strict";
import { forEachBuffered } from "./buffered-iterator.js";
import { PushQueue } from "./push-queue.js";

test("items pushed before the reader asks come in order, without a promise each; then done", async () => {
  const q = new PushQueue<number>();
  q.push(1);
  q.push(2);
  assert.deepEqual(q.nextBuffered(), { value: 1, done: false });
  q.push(3);
  q.end();
  q.push(4); // after end: dropped
  assert.deepEqual(await q.next(), { value: 2, done: false });
  assert.deepEqual(q.nextBuffered(), { value: 3, done: false });
  assert.deepEqual(q.nextBuffered(), { value: undefined, done: true });
  assert.deepEqual(await q.next(), { value: undefined, done: true });
});

test("a waiting reader gets the next push, or done, or the failure", async () => {
  const q = new PushQueue<string>();
  assert.equal(q.nextBuffered(), undefined);
  const first = q.next();
  q.push("a");
  assert.deepEqual(await first, { value: "a", done: false });
  const second = q.next();
  q.fail(new Error("boom"));
  await assert.rejects(second, /boom/);
  // The failure was delivered to the reader that waited: the queue is then simply over.
  assert.deepEqual(await q.next(), { value: undefined, done: true });
});

test("after fail, what was pushed before still comes first, then the error once", async () => {
  const q = new PushQueue<number>();
  q.push(1);
  q.fail(new Error("cut off"));
  q.push(2); // after fail: dropped
  assert.deepEqual(q.nextBuffered(), { value: 1, done: false });
  assert.throws(() => q.nextBuffered(), /cut off/);
  assert.deepEqual(await q.next(), { value: undefined, done: true });

  const r = new PushQueue<number>();
  r.push(7);
  r.fail(new Error("late"));
  const seen: number[] = [];
  await assert.rejects(
    forEachBuffered(r, (v) => {
      seen.push(v);
      return true;
    }),
    /late/,
  );
  assert.deepEqual(seen, [7]);
});

test("a reader that stops early tells the producer once and drops the rest", async () => {
  let told = 0;
  const q = new PushQueue<number>(() => told++);
  for (let i = 0; i < 5; i++) q.push(i);
  const seen: number[] = [];
  for await (const v of q) {
    seen.push(v);
    if (v === 1) break;
  }
  assert.deepEqual(seen, [0, 1]);
  assert.equal(told, 1);
  await q.return();
  assert.equal(told, 1);
  assert.deepEqual(await q.next(), { value: undefined, done: true });
  // A producer that ended first is not told: it has nothing left to stop.
  let toldEnded = 0;
  const ended = new PushQueue<number>(() => toldEnded++);
  ended.end();
  await ended.return();
  assert.equal(toldEnded, 0);
});
