// The retry budget's arithmetic, on a clock the test moves; router.test.ts has
// it at work in the router.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RetryBudget } from "./retry-budget.js";
import { RollingCount } from "./rolling-count.js";

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

test("retries are bounded by a share of the window's requests", () => {
  const c = clock();
  const b = new RetryBudget({ percent: 20, minPerSecond: 0, windowMs: 10_000 }, c.now);
  for (let i = 0; i < 10; i++) b.request();
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), true, "20 % of 10 requests: 2 retries");
  assert.equal(b.tryRetry(), false);
  for (let i = 0; i < 5; i++) b.request();
  assert.equal(b.tryRetry(), true, "15 requests: a third retry");
  assert.equal(b.tryRetry(), false);
});

test("the floor lets a quiet deployment retry; a zero budget allows none", () => {
  const c = clock();
  const quiet = new RetryBudget({ percent: 20, minPerSecond: 0.1, windowMs: 10_000 }, c.now); // one retry per window
  quiet.request();
  assert.equal(quiet.tryRetry(), true, "one request, 0.2 of a retry by share, one by the floor");
  assert.equal(quiet.tryRetry(), false);
  const none = new RetryBudget({ percent: 0, minPerSecond: 0, windowMs: 10_000 }, c.now);
  none.request();
  assert.equal(none.tryRetry(), false);
});

test("requests and retries leave the window as it rolls", () => {
  const c = clock();
  const b = new RetryBudget({ percent: 50, minPerSecond: 0, windowMs: 10_000 }, c.now);
  for (let i = 0; i < 4; i++) b.request();
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), true);
  assert.equal(b.tryRetry(), false);
  c.t += 11_000; // all of it is older than the window now
  assert.equal(b.tryRetry(), false, "no recent requests, no share");
  b.request();
  b.request();
  assert.equal(b.tryRetry(), true, "the old retries no longer count");
});

test("a rolling count keeps the last window only, bucket by bucket", () => {
  const c = clock();
  const n = new RollingCount(1_000, c.now);
  n.add();
  c.t += 500;
  n.add();
  n.add();
  assert.equal(n.total(), 3);
  c.t += 600; // the first add is 1.1 s old
  assert.equal(n.total(), 2);
  c.t += 1_000;
  assert.equal(n.total(), 0);
  n.add();
  n.clear();
  assert.equal(n.total(), 0);
});
