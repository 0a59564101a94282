import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { CircuitBreaker, type CircuitState } from "./circuit-breaker.js";
import { fullJitterBackoff } from "./backoff.js";

const cfg = { failureThreshold: 3, failureRateThreshold: 0.5, minimumCalls: 10, windowMs: 10_000, openMs: 1_000, halfOpenMaxCalls: 2 };

function clocked() {
  let now = 0;
  const states: CircuitState[] = [];
  const b = new CircuitBreaker(cfg, (s) => states.push(s), () => now);
  return { b, states, advance: (ms: number) => (now += ms) };
}

describe("CircuitBreaker", () => {
  test("opens after consecutive failures; a success resets the count", () => {
    const { b, states } = clocked();
    b.onFailure();
    b.onFailure();
    b.onSuccess();
    b.onFailure();
    b.onFailure();
    assert.equal(b.current, "closed");
    b.onFailure();
    assert.equal(b.current, "open");
    assert.equal(b.tryAcquire(), false);
    assert.deepEqual(states, ["open"]);
  });

  test("a short streak among mostly successful recent calls is noise", () => {
    const { b } = clocked();
    for (let i = 0; i < 20; i++) b.onSuccess();
    for (let i = 0; i < 3; i++) b.onFailure(); // 3 in a row (the threshold), but 3 of the last 23 calls
    assert.equal(b.current, "closed");
    for (let i = 0; i < 6; i++) b.onFailure(); // 9 in a row, 9 of 29: under half, under minimumCalls (10)
    assert.equal(b.current, "closed");
  });

  test("a streak opens a deployment whose successes are older than the recent span", () => {
    const { b, advance } = clocked();
    for (let i = 0; i < 20; i++) b.onSuccess();
    advance(2_500); // the recent span is a fifth of the 10 s window
    b.onFailure();
    b.onFailure();
    assert.equal(b.current, "closed");
    b.onFailure();
    assert.equal(b.current, "open", "3 of the last 3 calls failed, though 20 of 23 in the window succeeded");
  });

  test("a busy deployment that fails outright opens after minimumCalls failures in a row", () => {
    const { b, advance } = clocked();
    for (let i = 0; i < 1000; i++) {
      b.onSuccess();
      advance(1); // 1,000 calls a second
    }
    for (let i = 0; i < 9; i++) {
      b.onFailure();
      advance(1);
    }
    assert.equal(b.current, "closed", "9 in a row against 1,000 recent successes");
    b.onFailure();
    assert.equal(b.current, "open", "10 (minimumCalls) in a row: a full sample, all failed");
  });

  test("opens on the failure rate over the window with enough calls", () => {
    const { b } = clocked();
    // Alternate so consecutive failures never reach 3: 5 failures / 10 calls = 50 %.
    for (let i = 0; i < 5; i++) {
      b.onSuccess();
      b.onFailure();
    }
    assert.equal(b.current, "open");
  });

  test("old outcomes slide out of the window", () => {
    const { b, advance } = clocked();
    for (let i = 0; i < 4; i++) {
      b.onFailure();
      b.onSuccess();
    }
    advance(11_000);
    for (let i = 0; i < 6; i++) b.onSuccess();
    b.onFailure();
    b.onSuccess();
    assert.equal(b.current, "closed");
  });

  test("half-opens after openMs, limits trial calls, closes after enough successes", () => {
    const { b, states, advance } = clocked();
    for (let i = 0; i < 3; i++) b.onFailure();
    advance(999);
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.retryInMs(), 1);
    advance(1);
    assert.equal(b.current, "half-open");
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), true);
    assert.equal(b.tryAcquire(), false, "only halfOpenMaxCalls trials");
    b.onSuccess();
    assert.equal(b.current, "half-open");
    b.onSuccess();
    assert.equal(b.current, "closed");
    assert.deepEqual(states, ["open", "half-open", "closed"]);
  });

  test("a failed trial re-opens the circuit for another openMs", () => {
    const { b, advance } = clocked();
    for (let i = 0; i < 3; i++) b.onFailure();
    advance(1000);
    assert.equal(b.tryAcquire(), true);
    b.onFailure();
    assert.equal(b.current, "open");
    advance(500);
    assert.equal(b.tryAcquire(), false);
    advance(500);
    assert.equal(b.tryAcquire(), true);
  });

  test("a cancelled trial frees its slot", () => {
    const { b, advance } = clocked();
    for (let i = 0; i < 3; i++) b.onFailure();
    advance(1000);
    assert.ok(b.tryAcquire() && b.tryAcquire());
    b.onCancel();
    assert.equal(b.tryAcquire(), true);
  });
});

describe("fullJitterBackoff", () => {
  test("stays within [0, min(cap, base*2^attempt))", () => {
    assert.equal(fullJitterBackoff(0, 25, 250, () => 0.999), 24);
    assert.equal(fullJitterBackoff(3, 25, 250, () => 0.5), 100);
    assert.equal(fullJitterBackoff(10, 25, 250, () => 0.999), 249);
    assert.equal(fullJitterBackoff(5, 25, 250, () => 0), 0);
  });
});
