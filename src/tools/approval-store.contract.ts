// The ApprovalStore contract, shared by every implementation (SQLite now, PG
// later). Call it from an implementation's test file with a factory.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { ApprovalStore, NewApprovalRequest } from "./types.js";

export interface ContractHarness {
  store: ApprovalStore;
  close(): Promise<void> | void;
}

let seq = 0;
function newReq(over: Partial<NewApprovalRequest> = {}): NewApprovalRequest {
  seq += 1;
  return {
    id: `apr-${process.pid}-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    tenant: "t1",
    runId: "run-1",
    tool: "send_email",
    arguments: { to: "a@example.com", body: "hi" },
    risk: "high",
    createdAt: 1_000,
    expiresAt: 61_000,
    ...over,
  };
}

export function approvalStoreContract(name: string, make: () => Promise<ContractHarness>): void {
  describe(`ApprovalStore contract: ${name}`, () => {
    const withStore = (fn: (s: ApprovalStore) => Promise<void>) => async () => {
      const h = await make();
      try {
        await fn(h.store);
      } finally {
        await h.close();
      }
    };

    it("create persists a pending request readable by get (with state)", withStore(async (s) => {
      const req = newReq({ state: { messages: [{ role: "user", content: "x" }] } });
      const created = await s.create(req);
      assert.equal(created.status, "pending");
      const got = await s.get(req.id);
      assert.ok(got);
      assert.deepEqual(got.arguments, req.arguments);
      assert.deepEqual(got.state, req.state);
      assert.equal(got.expiresAt, req.expiresAt);
      assert.equal(await s.get(req.id, "other-tenant"), undefined);
      assert.equal(await s.get("missing"), undefined);
    }));

    it("listPending is per tenant, oldest first, and skips overdue ones", withStore(async (s) => {
      const a = await s.create(newReq({ tenant: "lp", createdAt: 2_000 }));
      const b = await s.create(newReq({ tenant: "lp", createdAt: 1_500 }));
      await s.create(newReq({ tenant: "lp", createdAt: 1_000, expiresAt: 3_000 }));
      await s.create(newReq({ tenant: "other" }));
      const list = await s.listPending("lp", 5_000);
      assert.deepEqual(list.map((r) => r.id), [b.id, a.id]);
    }));

    it("decide approves exactly once and records who/when/why", withStore(async (s) => {
      const r = await s.create(newReq());
      const first = await s.decide(r.id, "t1", { approve: true, by: "alice", reason: "ok" }, 5_000);
      assert.equal(first.ok, true);
      assert.equal(first.ok && first.request.status, "approved");
      assert.equal(first.ok && first.request.decidedBy, "alice");
      assert.equal(first.ok && first.request.decidedAt, 5_000);
      const second = await s.decide(r.id, "t1", { approve: false, by: "bob" }, 6_000);
      assert.deepEqual(second.ok ? null : second.error, "already_decided");
      assert.equal((await s.get(r.id))?.decidedBy, "alice");
    }));

    it("concurrent decisions: exactly one wins", withStore(async (s) => {
      const r = await s.create(newReq());
      const outcomes = await Promise.all(
        ["u1", "u2", "u3", "u4"].map((by, i) => s.decide(r.id, "t1", { approve: i % 2 === 0, by }, 5_000)),
      );
      assert.equal(outcomes.filter((o) => o.ok).length, 1);
    }));

    it("decide refuses other tenants and unknown ids", withStore(async (s) => {
      const r = await s.create(newReq());
      const o = await s.decide(r.id, "intruder", { approve: true, by: "eve" }, 5_000);
      assert.equal(o.ok ? null : o.error, "not_found");
      assert.equal((await s.get(r.id))?.status, "pending");
      const m = await s.decide("nope", "t1", { approve: true, by: "eve" }, 5_000);
      assert.equal(m.ok ? null : m.error, "not_found");
    }));

    it("an overdue request cannot be decided; it becomes expired", withStore(async (s) => {
      const r = await s.create(newReq({ expiresAt: 4_000 }));
      const o = await s.decide(r.id, "t1", { approve: true, by: "alice" }, 4_000);
      assert.equal(o.ok ? null : o.error, "expired");
      const got = await s.get(r.id);
      assert.equal(got?.status, "expired");
    }));

    it("expireDue expires only overdue pending requests", withStore(async (s) => {
      const due = await s.create(newReq({ tenant: "ex", expiresAt: 2_000 }));
      const later = await s.create(newReq({ tenant: "ex", expiresAt: 90_000 }));
      const decided = await s.create(newReq({ tenant: "ex", expiresAt: 2_000 }));
      await s.decide(decided.id, "ex", { approve: false, by: "bob", reason: "no" }, 1_500);
      const expired = await s.expireDue(10_000);
      assert.deepEqual(expired.map((r) => r.id).filter((id) => [due.id, later.id, decided.id].includes(id)), [due.id]);
      assert.equal((await s.get(due.id))?.status, "expired");
      assert.equal((await s.get(later.id))?.status, "pending");
      assert.equal((await s.get(decided.id))?.status, "denied");
      assert.deepEqual(await s.expireDue(10_000).then((l) => l.filter((r) => r.id === due.id)), []);
    }));

    it("markResumed succeeds once, and only after a decision", withStore(async (s) => {
      const r = await s.create(newReq());
      assert.equal(await s.markResumed(r.id, 2_000), false);
      await s.decide(r.id, "t1", { approve: true, by: "alice" }, 3_000);
      const claims = await Promise.all([s.markResumed(r.id, 4_000), s.markResumed(r.id, 4_000)]);
      assert.deepEqual(claims.sort(), [false, true]);
      assert.equal((await s.get(r.id))?.resumedAt, 4_000);
    }));

    it("audit lists every decision with who, when and the arguments", withStore(async (s) => {
      const a = await s.create(newReq({ tenant: "au", tool: "a", arguments: { n: 1 } }));
      const b = await s.create(newReq({ tenant: "au", tool: "b", arguments: { n: 2 } }));
      const c = await s.create(newReq({ tenant: "au", tool: "c", arguments: { n: 3 }, expiresAt: 2_500 }));
      await s.create(newReq({ tenant: "au", tool: "d" }));
      await s.decide(a.id, "au", { approve: true, by: "alice" }, 2_000);
      await s.decide(b.id, "au", { approve: false, by: "bob", reason: "too risky" }, 3_000);
      await s.expireDue(4_000);
      const log = await s.audit("au");
      assert.deepEqual(
        log.map((e) => [e.id, e.tool, e.status, e.decidedBy, e.decidedAt, e.reason, e.arguments]),
        [
          [a.id, "a", "approved", "alice", 2_000, undefined, { n: 1 }],
          [b.id, "b", "denied", "bob", 3_000, "too risky", { n: 2 }],
          [c.id, "c", "expired", "system", 4_000, "approval timed out", { n: 3 }],
        ],
      );
      assert.deepEqual(await s.audit("nobody"), []);
    }));
  });
}
