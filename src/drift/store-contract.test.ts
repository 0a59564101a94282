// The DriftStore contract, run against SQLite and (when a server is there)
// PostgreSQL in a fresh schema: what the monitor needs to keep a reference
// through a restart.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { openDatabase } from "../data/index.js";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { PgDriftStore } from "./postgres/drift-store.js";
import { SqliteDriftStore } from "./sqlite/drift-store.js";
import type { DriftStore, StoredWindow } from "./types.js";

const reference: StoredWindow = {
  signal: "latency_ms:assistant",
  role: "reference",
  kind: "numeric",
  values: [0.1, 12.5, 1e-9, 123456.789, 0, -3],
  summary: { n: 6, mean: 20576.23150000017, p50: 0.1, p95: 123456.789 },
  origin: "first_window",
  updatedAt: 1_764_000_000_123,
};

const current: StoredWindow = {
  signal: "language:assistant",
  role: "current",
  kind: "categorical",
  values: [0, 0, 1, 16],
  categories: ["en", "de", "fr", "und"],
  summary: { n: 4, mean: null, p50: null, p95: null, shares: { en: 0.5, de: 0.25, und: 0.25 } },
  alerting: true,
  updatedAt: 1_764_000_000_456,
};

function driftStoreContract(name: string, make: () => Promise<DriftStore>): void {
  describe(`DriftStore contract: ${name}`, () => {
    test("round-trips numeric and categorical windows exactly", async () => {
      const s = await make();
      await s.save(reference);
      await s.save(current);
      const all = await s.loadAll();
      assert.deepEqual(all.find((w) => w.signal === reference.signal && w.role === "reference"), reference);
      assert.deepEqual(all.find((w) => w.signal === current.signal && w.role === "current"), current);
      assert.equal(all.length, 2);
    });

    test("a save replaces the window of the same (signal, role) and keeps the other role", async () => {
      const s = await make();
      await s.save(reference);
      await s.save({ ...reference, role: "current", values: [1], summary: { n: 1, mean: 1, p50: 1, p95: 1 } });
      const pinned: StoredWindow = { ...reference, values: [7, 8, 9], summary: { n: 3, mean: 8, p50: 8, p95: 9 }, origin: "pinned", updatedAt: reference.updatedAt + 1 };
      await s.save(pinned);
      const all = await s.loadAll();
      assert.equal(all.length, 2);
      assert.deepEqual(all.find((w) => w.role === "reference"), pinned);
      assert.deepEqual(all.find((w) => w.role === "current")?.values, [1]);
    });

    test("an empty window and an empty store", async () => {
      const s = await make();
      assert.deepEqual(await s.loadAll(), []);
      const empty: StoredWindow = { signal: "grounding:a:b", role: "current", kind: "numeric", values: [], summary: { n: 0, mean: null, p50: null, p95: null }, updatedAt: 1 };
      await s.save(empty);
      assert.deepEqual(await s.loadAll(), [empty]);
    });
  });
}

driftStoreContract("sqlite", async () => new SqliteDriftStore(openDatabase(":memory:")));

test("sqlite: the schema is applied idempotently and a second store on the same file sees the windows", async () => {
  const db = openDatabase(":memory:");
  await new SqliteDriftStore(db).save(reference);
  assert.deepEqual(await new SqliteDriftStore(db).loadAll(), [reference]);
});

if (postgresTestsEnabled) {
  const pg = sharedTestSchema();
  after(() => pg.drop());
  driftStoreContract("postgres", async () => {
    const s = await pg.get();
    await s.truncate();
    return PgDriftStore.open(s.pool);
  });
}
