import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { bootstrapMean, mean, pairedBootstrap, seededRandom } from "./bootstrap.js";

describe("bootstrap", () => {
  test("the PRNG is reproducible and in [0, 1)", () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    assert.deepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => b()));
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    assert.ok(Math.abs(mean(xs) - 0.5) < 0.05);
  });

  test("identical runs: the interval contains 0 and is tiny", () => {
    const r = seededRandom(7);
    const a = Array.from({ length: 50 }, () => r());
    const ci = pairedBootstrap(a, [...a]);
    assert.equal(ci.mean, 0);
    assert.ok(ci.low <= 0 && ci.high >= 0);
    assert.ok(ci.high - ci.low < 1e-12);
    assert.equal(ci.n, 50);
    assert.equal(ci.confidence, 0.95);
  });

  test("noise without a shift: the interval contains 0", () => {
    const r = seededRandom(3);
    const a = Array.from({ length: 200 }, () => r());
    const b = a.map((x) => x + (r() - 0.5) * 0.1);
    const ci = pairedBootstrap(a, b);
    assert.ok(ci.low < 0 && ci.high > 0, JSON.stringify(ci));
  });

  test("a clear shift: the interval excludes 0 and holds the true difference", () => {
    const r = seededRandom(5);
    const a = Array.from({ length: 60 }, () => (r() < 0.8 ? 1 : 0));
    const b = a.map((x) => (x === 1 && r() < 0.5 ? 0 : x)); // about half the hits lost
    const ci = pairedBootstrap(a, b);
    assert.ok(ci.high < 0, JSON.stringify(ci));
    assert.ok(ci.low <= ci.mean && ci.mean <= ci.high);
  });

  test("same seed → same interval; another seed → close", () => {
    const a = [1, 0, 1, 1, 0, 1, 0, 1, 1, 1];
    const b = [0, 0, 1, 0, 0, 1, 0, 1, 0, 1];
    assert.deepEqual(pairedBootstrap(a, b, { seed: 9 }), pairedBootstrap(a, b, { seed: 9 }));
    const other = pairedBootstrap(a, b, { seed: 10 });
    assert.ok(Math.abs(other.low - pairedBootstrap(a, b, { seed: 9 }).low) <= 0.11);
  });

  test("bootstrapMean: constant values give a zero-width interval; empty gives NaN", () => {
    assert.deepEqual(bootstrapMean([0.5, 0.5, 0.5]), { mean: 0.5, low: 0.5, high: 0.5, n: 3, confidence: 0.95 });
    assert.ok(Number.isNaN(bootstrapMean([]).mean));
    assert.throws(() => pairedBootstrap([1], [1, 2]), /equal lengths/);
  });
});
