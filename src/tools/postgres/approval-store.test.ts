// The ApprovalStore contract on PostgreSQL (a fresh schema per test file), plus
// what only several replicas can show: two pools (two "replicas") racing to
// decide and to claim the resume, and sweepers expiring each request once.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { postgresTestsEnabled, sharedTestSchema } from "../../testing/postgres.js";
import { approvalStoreContract } from "../approval-store.contract.js";
import { PgApprovalStore } from "./approval-store.js";

const shared = sharedTestSchema();
after(() => shared.drop());

if (postgresTestsEnabled) {
  approvalStoreContract("postgres", async () => {
    const s = await shared.get();
    await PgApprovalStore.open(s.pool);
    await s.truncate(); // each contract test starts from an empty table, as on SQLite :memory:
    return { store: new PgApprovalStore(s.pool), close: () => undefined };
  });
}

describe("PgApprovalStore across replicas", { skip: !postgresTestsEnabled && "STRATUM_SKIP_POSTGRES=1" }, () => {
  const base = { tenant: "rep", runId: "run", tool: "t", arguments: { a: 1 }, risk: "high" as const, createdAt: 1_000, expiresAt: 60_000 };

  it("decisions and resume claims from two pools: exactly one winner each", async () => {
    const s = await shared.get();
    const a = await PgApprovalStore.open(s.newPool({ max: 4 }));
    const b = await PgApprovalStore.open(s.newPool({ max: 4 }));
    const ids = Array.from({ length: 10 }, (_, i) => `race-${i}-${Math.random().toString(36).slice(2)}`);
    for (const id of ids) await a.create({ ...base, id });
    for (const id of ids) {
      const outcomes = await Promise.all([a, b, a, b].map((st, i) => st.decide(id, "rep", { approve: i < 2, by: `u${i}` }, 5_000)));
      assert.equal(outcomes.filter((o) => o.ok).length, 1, `one decision wins for ${id}`);
      const claims = await Promise.all([a.markResumed(id, 6_000), b.markResumed(id, 6_000), a.markResumed(id, 6_000)]);
      assert.equal(claims.filter(Boolean).length, 1, `one resume claim wins for ${id}`);
    }
    assert.deepEqual((await a.listUnresumed()).filter((r) => ids.includes(r.id)), []);
  });

  it("sweepers on two replicas expire each overdue request once", async () => {
    const s = await shared.get();
    const a = await PgApprovalStore.open(s.newPool({ max: 2 }));
    const b = await PgApprovalStore.open(s.newPool({ max: 2 }));
    const ids = Array.from({ length: 8 }, (_, i) => `sweep-${i}-${Math.random().toString(36).slice(2)}`);
    for (const id of ids) await a.create({ ...base, tenant: "sw", id, expiresAt: 2_000 });
    const [x, y] = await Promise.all([a.expireDue(3_000), b.expireDue(3_000)]);
    const seen = [...x, ...y].map((r) => r.id).filter((id) => ids.includes(id)).sort();
    assert.deepEqual(seen, [...ids].sort(), "every request expired exactly once in total");
    const unresumed = (await b.listUnresumed(1000)).filter((r) => ids.includes(r.id));
    assert.equal(unresumed.length, ids.length, "expired runs wait for their resume");
  });
});
