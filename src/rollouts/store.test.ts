// The RolloutStore contract on SQLite and PostgreSQL, the canary verdict and
// the stable traffic assignment.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase } from "../data/index.js";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { assignSide, bucketOf, DEFAULT_THRESHOLDS, judge, migrateRollouts, normalizeSteps, PgRolloutStore, SqliteRolloutStore, type VersionStats } from "./index.js";
import { rolloutStoreContract } from "./store-contract.js";

rolloutStoreContract("sqlite", async () => new SqliteRolloutStore(openDatabase(":memory:")));

if (postgresTestsEnabled) {
  const pg = sharedTestSchema();
  after(() => pg.drop());
  rolloutStoreContract("postgres", async () => {
    const s = await pg.get();
    await migrateRollouts(s.pool);
    await s.truncate();
    return new PgRolloutStore(s.pool);
  });
}

const stats = (o: Partial<VersionStats>): VersionStats => ({ requests: 100, errors: 0, error_rate: 0, p95_ms: 100, guardrail_blocks: 0, block_rate: 0, eval: {}, ...o });

describe("canary verdict", () => {
  test("waits for the minimum sample on both sides", () => {
    const v = judge(stats({ requests: 19 }), stats({}), DEFAULT_THRESHOLDS);
    assert.equal(v.verdict, "wait");
    assert.match(v.reasons[0]!, /baseline has 19\/20/);
  });

  test("passes within thresholds; fails on error rate, p95, block rate or an eval score, naming the numbers", () => {
    const t = DEFAULT_THRESHOLDS;
    assert.equal(judge(stats({ error_rate: 0.01 }), stats({ error_rate: 0.05, p95_ms: 300 }), t).verdict, "pass");
    const err = judge(stats({ error_rate: 0.01 }), stats({ error_rate: 0.5 }), t);
    assert.equal(err.verdict, "fail");
    assert.equal(err.numbers.error_rate_delta, 0.49);
    assert.match(err.reasons[0]!, /error rate 0.5 vs 0.01/);
    assert.equal(judge(stats({ p95_ms: 100 }), stats({ p95_ms: 401 }), t).verdict, "fail");
    assert.equal(judge(stats({}), stats({ block_rate: 0.2 }), t).verdict, "fail");
    assert.equal(judge(stats({ eval: { groundedness: 0.9 } }), stats({ eval: { groundedness: 0.7 } }), t).verdict, "fail");
    // A metric only one side has is ignored: no scores, the other signals decide.
    assert.equal(judge(stats({}), stats({ eval: { groundedness: 0.1 } }), t).verdict, "pass");
  });
});

describe("traffic assignment", () => {
  test("stable per user, roughly proportional, and monotone in the percentage", () => {
    let candidates = 0;
    for (let i = 0; i < 2_000; i++) {
      const key = `user-${i}`;
      assert.equal(assignSide("ro_1", key, 25), assignSide("ro_1", key, 25));
      if (assignSide("ro_1", key, 25) === "candidate") {
        candidates++;
        assert.equal(assignSide("ro_1", key, 50), "candidate", "a candidate user stays a candidate when the share grows");
      }
    }
    assert.ok(candidates > 400 && candidates < 600, `${candidates} of 2000 at 25%`);
    assert.ok(bucketOf("ro_1", "x") >= 0 && bucketOf("ro_1", "x") < 100);
  });

  test("steps are validated and end at 100", () => {
    assert.deepEqual(normalizeSteps([5, 25, 50]), [5, 25, 50, 100]);
    assert.deepEqual(normalizeSteps([50, 100]), [50, 100]);
    assert.throws(() => normalizeSteps([25, 5]), /strictly increasing/);
    assert.throws(() => normalizeSteps([]), /empty/);
  });
});
