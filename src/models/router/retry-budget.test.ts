// The retry budget's arithmetic; router.test.ts has it at work in the router.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RetryBudget } from "./retry-budget.js";

test("retries in flight are bounded by a share of the active requests, and never below the minimum", () => {
  const b = new RetryBudget({ percent: 20, minConcurrent: 1 });
  for (let i = 0; i < 10; i++) b.enter();
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), true, "20 % of 10 active requests: 2 retries");
  assert.equal(b.tryRetry(), false);
  b.retryDone();
  assert.equal(b.tryRetry(), true, "a settled retry gives its slot back");
  for (let i = 0; i < 9; i++) b.leave();
  b.retryDone();
  b.retryDone();
  assert.equal(b.tryRetry(), true, "one active request: the minimum of 1 still lets it retry");
  assert.equal(b.tryRetry(), false);
  assert.deepEqual(b.load, { active: 1, retrying: 1 });
});

test("a zero budget allows no retry; counts never go below zero", () => {
  const b = new RetryBudget({ percent: 0, minConcurrent: 0 });
  b.enter();
  assert.equal(b.tryRetry(), false);
  b.leave();
  b.leave();
  b.retryDone();
  assert.deepEqual(b.load, { active: 0, retrying: 0 });
});
