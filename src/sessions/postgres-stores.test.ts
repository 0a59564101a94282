// The SessionStore / MemoryStore contract suites on PostgreSQL, in a fresh
// schema dropped at the end (see testing/postgres.ts).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { PgMemoryStore, PgSessionStore } from "./postgres/index.js";
import { memoryStoreContract, sessionStoreContract } from "./store-contract.test.js";

if (postgresTestsEnabled) {
  const pg = sharedTestSchema();
  after(() => pg.drop());

  const fresh = async () => {
    const s = await pg.get();
    await s.truncate();
    return s;
  };
  sessionStoreContract("postgres", async (maxMessages) => new PgSessionStore((await fresh()).pool, maxMessages ? { maxMessages } : {}));
  memoryStoreContract("postgres", async (maxFactsPerUser) => new PgMemoryStore((await fresh()).pool, maxFactsPerUser ? { maxFactsPerUser } : {}));

  describe("PgSessionStore: several replicas", () => {
    test("appends through two pools to one session stay gap-free and pruned to the bound", async () => {
      const s = await fresh();
      const a = new PgSessionStore(s.pool, { maxMessages: 25 });
      const b = new PgSessionStore(s.newPool({ max: 5 }), { maxMessages: 25 });
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).appendTurns("t", "shared", [{ role: "user", content: `m${i}` }, { role: "assistant", content: `r${i}` }])),
      );
      const firsts = results.map((r) => r.firstSeq).sort((x, y) => x - y);
      assert.deepEqual(firsts, Array.from({ length: 30 }, (_, i) => 2 * i + 1));
      const h = await a.history("t", "shared");
      assert.deepEqual(h.seqs, Array.from({ length: 25 }, (_, i) => 36 + i));
      const info = await b.get("t", "shared");
      assert.equal(info?.messageCount, 25);
      assert.equal(info?.lastSeq, 60);
    });

    test("an append of more messages than the bound keeps only the newest", async () => {
      const s = await fresh();
      const store = new PgSessionStore(s.pool, { maxMessages: 2 });
      assert.deepEqual(await store.appendTurns("t", "s", ["1", "2", "3", "4"].map((c) => ({ role: "user" as const, content: c }))), { firstSeq: 1, lastSeq: 4 });
      assert.deepEqual((await store.history("t", "s")).seqs, [3, 4]);
      assert.deepEqual(await store.appendTurns("t", "s", []), { firstSeq: 5, lastSeq: 4 });
    });
  });

  describe("PgMemoryStore: full-text details", () => {
    test("scores are the share of query words present; tsquery operators and long words are plain text", async () => {
      const s = await fresh();
      const m = new PgMemoryStore(s.pool);
      await m.add("t", "u", { text: "Collects vintage cameras" });
      const hits = await m.search("t", "u", "vintage cameras lenses", 5);
      assert.equal(hits.length, 1);
      assert.equal(hits[0]!.score, 2 / 3);
      // Very long words and tsquery operators in the text are plain text.
      for (const q of ["vintage & !cameras", "vintage:* | <->", "x".repeat(5000) + " cameras", "cameras\\", "'vintage'"]) {
        assert.equal((await m.search("t", "u", q, 5)).length, 1, q);
      }
    });
  });
}
