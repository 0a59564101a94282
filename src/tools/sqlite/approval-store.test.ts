import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../data/index.js";
import { approvalStoreContract } from "../approval-store.contract.js";
import { SqliteApprovalStore } from "./approval-store.js";

approvalStoreContract("sqlite :memory:", async () => {
  const db = openDatabase(":memory:");
  return { store: new SqliteApprovalStore(db), close: () => void db.close() };
});

approvalStoreContract("sqlite file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-approvals-"));
  const db = openDatabase(join(dir, "s.db"));
  return {
    store: new SqliteApprovalStore(db),
    close: () => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe("SqliteApprovalStore durability", () => {
  it("survives reopening the same file, schema is idempotent", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratum-approvals-"));
    const file = join(dir, "stratum.db");
    try {
      let db = openDatabase(file);
      let store = new SqliteApprovalStore(db);
      await store.create({
        id: "r1", tenant: "t", runId: "run", tool: "x", arguments: { a: [1, 2] }, risk: "high",
        createdAt: 1, expiresAt: 100, state: { hello: "world" },
      });
      db.close();

      db = openDatabase(file);
      store = new SqliteApprovalStore(db);
      new SqliteApprovalStore(db); // applying the schema twice is harmless
      const got = await store.get("r1");
      assert.equal(got?.status, "pending");
      assert.deepEqual(got?.state, { hello: "world" });
      const o = await store.decide("r1", "t", { approve: true, by: "ops" }, 50);
      assert.equal(o.ok, true);
      db.close();

      db = openDatabase(file);
      store = new SqliteApprovalStore(db);
      assert.equal((await store.get("r1"))?.status, "approved");
      assert.equal((await store.audit("t")).length, 1);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
