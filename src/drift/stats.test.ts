// PSI and KS on fixtures small enough to check by hand, plus seeded samples
// for the stable/shifted behaviour.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { seededRandom } from "../core/seeded-random.js";
import { binCounts, categoricalPsi, kolmogorovSurvival, ksStatistic, ksTest, PSI_EPSILON, psi, quantileEdges, summarize } from "./stats.js";

const close = (actual: number, expected: number, tol = 1e-6) => assert.ok(Math.abs(actual - expected) <= tol, `${actual} ≉ ${expected}`);

/** Box–Muller normals from the seeded PRNG. */
function normals(seed: number, n: number, mean = 0, sd = 1): number[] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => mean + sd * Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd()));
}

describe("PSI", () => {
  test("bins come from the reference quantiles (inverse empirical CDF), ties removed", () => {
    assert.deepEqual(quantileEdges([1, 2, 3, 4], 2), [2]);
    assert.deepEqual(quantileEdges(Array.from({ length: 100 }, (_, i) => i + 1), 10), [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert.deepEqual(quantileEdges([0, 0, 0, 0, 5], 4), [0]);
    assert.deepEqual(quantileEdges([0, 0, 0, 5, 5], 4), [0, 5]);
    assert.deepEqual(binCounts([1, 2, 3, 4, 2.5], [2]), [2, 3]);
  });

  test("two bins, one empty in the current window: epsilon smoothing", () => {
    // reference [1,2,3,4] → edge 2 → shares (0.5, 0.5); current [3,4,4,4] → (0, 1) → (ε, 1).
    const expected = (PSI_EPSILON - 0.5) * Math.log(PSI_EPSILON / 0.5) + (1 - 0.5) * Math.log(1 / 0.5);
    close(expected, 4.604318, 1e-6); // by hand: 0.4999 · 8.517193 + 0.5 · 0.693147
    close(psi([1, 2, 3, 4], [3, 4, 4, 4], 2), expected);
  });

  test("deciles of 1..100 against 51..150: five empty bins and one holding 60%", () => {
    const ref = Array.from({ length: 100 }, (_, i) => i + 1);
    const cur = Array.from({ length: 100 }, (_, i) => i + 51);
    // 5 bins at ε vs 0.1, 4 unchanged, the last at 0.6 vs 0.1.
    const expected = 5 * (PSI_EPSILON - 0.1) * Math.log(PSI_EPSILON / 0.1) + 0.5 * Math.log(6);
    close(expected, 4.346303, 1e-6);
    close(psi(ref, cur, 10), expected);
    assert.equal(psi(ref, ref, 10), 0);
  });

  test("categorical: 80/20 → 50/50 English/German", () => {
    const ref = new Map([["en", 80], ["de", 20]]);
    const cur = new Map([["en", 50], ["de", 50]]);
    // (0.5−0.8)·ln(0.5/0.8) + (0.5−0.2)·ln(0.5/0.2) = 0.141001 + 0.274887
    close(categoricalPsi(ref, cur), 0.415888, 1e-6);
    assert.equal(categoricalPsi(ref, ref), 0);
    // A category new in the current window counts against ε.
    const fresh = categoricalPsi(new Map([["en", 10]]), new Map([["en", 5], ["fr", 5]]));
    close(fresh, (0.5 - 1) * Math.log(0.5) + (0.5 - PSI_EPSILON) * Math.log(0.5 / PSI_EPSILON));
  });

  test("empty windows give NaN, not a number that looks like a verdict", () => {
    assert.ok(Number.isNaN(psi([], [1, 2], 10)));
    assert.ok(Number.isNaN(psi([1, 2], [], 10)));
  });
});

describe("KS", () => {
  test("disjoint samples: D = 1, p = Q(√1.5) = 2(e^−3 − e^−12 + …)", () => {
    const r = ksTest([1, 2, 3], [4, 5, 6]);
    assert.equal(r.d, 1);
    close(r.p_value, 2 * (Math.exp(-3) - Math.exp(-12) + Math.exp(-27)), 1e-12);
    close(r.p_value, 0.0995618, 1e-6);
  });

  test("overlapping samples with ties step over equal values together", () => {
    assert.equal(ksStatistic([1, 2, 2, 3], [2, 2, 3, 3]), 0.25);
    const r = ksTest([1, 2, 3, 4], [3, 4, 5, 6]);
    assert.equal(r.d, 0.5);
    // λ = √2 · 0.5: 2(e^−1 − e^−4 + e^−9 − e^−16)
    close(r.p_value, 0.699374, 1e-6);
    assert.deepEqual(ksTest([5, 5, 5], [5, 5]), { d: 0, p_value: 1 });
  });

  test("the Kolmogorov survival function at known points", () => {
    close(kolmogorovSurvival(1.36), 0.0494, 1e-4); // the classic 5% critical value
    close(kolmogorovSurvival(1.63), 0.0098, 1e-4); // the 1% one
    assert.equal(kolmogorovSurvival(0), 1);
  });

  test("same distribution, different seeds: no shift; a half-sd shift: clear", () => {
    const a = normals(1, 1000);
    const b = normals(2, 1000);
    const shifted = normals(3, 1000, 0.5);
    assert.ok(ksTest(a, b).p_value > 0.05, `stable p ${ksTest(a, b).p_value}`);
    assert.ok(psi(a, b) < 0.1, `stable psi ${psi(a, b)}`);
    assert.ok(ksTest(a, shifted).p_value < 1e-10);
    assert.ok(psi(a, shifted) > 0.2, `shifted psi ${psi(a, shifted)}`);
  });
});

test("summary: n, mean, p50 and p95 by the inverse empirical CDF", () => {
  assert.deepEqual(summarize(Array.from({ length: 20 }, (_, i) => 20 - i)), { n: 20, mean: 10.5, p50: 10, p95: 19 });
  assert.deepEqual(summarize([]), { n: 0, mean: null, p50: null, p95: null });
});
