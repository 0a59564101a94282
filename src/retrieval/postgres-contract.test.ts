// The RetrievalStore contract on the real PostgreSQL server of the test setup
// (STRATUM_TEST_POSTGRES_URL; STRATUM_SKIP_POSTGRES=1 leaves it out). When that
// server has no pgvector (the usual case here), the store runs lexically and the
// vector calls fail with the clear missing-pgvector message.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { StratumError } from "../core/errors.js";
import { postgresTestsEnabled, sharedTestSchema } from "../testing/postgres.js";
import { PgRetrievalStore, PGVECTOR_MISSING_MESSAGE, migrateRetrieval } from "./postgres/index.js";
import { retrievalStoreContract } from "./store-contract.js";
import { DIMS, doc, withVectors } from "./test-support.js";

if (postgresTestsEnabled) {
  const shared = sharedTestSchema();
  after(() => shared.drop());
  let store: Promise<PgRetrievalStore> | undefined;
  const open = () => (store ??= shared.get().then((s) => PgRetrievalStore.open(s.pool)));
  let hasVector = false;
  before(async () => {
    hasVector = (await open()).vectors;
  });

  describe("PgRetrievalStore on PostgreSQL", () => {
    it("migrates idempotently under its own module name", async () => {
      const s = await shared.get();
      await open();
      assert.deepEqual(await migrateRetrieval(s.pool), [], "already applied");
      const { rows } = await s.pool.query("SELECT module, version FROM stratum_schema_migrations WHERE module LIKE 'retrieval%' ORDER BY module, version");
      assert.deepEqual(rows.map((r) => r.module), hasVector ? ["retrieval", "retrieval_vector"] : ["retrieval"]);
    });

    it("without pgvector: lexical works, vectors fail with a clear message", async (t) => {
      const s = await open();
      if (hasVector) return t.skip("this server has pgvector");
      assert.equal(s.vectors, false);
      const c = await s.ensureCollection("no-vector", "c");
      const isMissing = (e: unknown) => e instanceof StratumError && e.message === PGVECTOR_MISSING_MESSAGE && /postgresql-15-pgvector/.test(e.message);
      await assert.rejects(s.setEmbeddingModel(c.id, "m", DIMS), isMissing);
      await assert.rejects(s.putDocument(c.id, withVectors(doc("a", "kangaroo facts"))), isMissing);
      assert.equal((await s.listDocuments(c.id)).length, 0, "nothing written");
      await s.putDocument(c.id, doc("a", "kangaroo facts"));
      assert.equal((await s.lexicalSearch(c.id, "kangaroo", 5)).length, 1);
      assert.deepEqual(await s.vectorsSince(c.id, 0), { rows: [], deletedChunkIds: [], nextRowId: 0 });
      assert.deepEqual(await s.denseSearch(c.id, new Float32Array(DIMS), 5), []);
    });

    it("stores text with NUL characters (PostgreSQL text cannot hold them: they are dropped)", async () => {
      const s = await open();
      const c = await s.ensureCollection("nul", "c");
      const d = await s.putDocument(c.id, {
        ...doc("a\u0000b", "wom\u0000bat facts", { note: "x\u0000y", raw: "\\u0000" }, "ti\u0000tle"),
        chunks: [{ ordinal: 0, text: "wom\u0000bat facts", headings: ["h\u0000"], start: 0, end: 5, tokens: 2 }],
      });
      assert.deepEqual(d.metadata, { note: "xy", raw: "\\u0000" });
      assert.equal((await s.getChunks([`${d.id}:0`]))[0]!.text, "wombat facts");
      assert.equal((await s.lexicalSearch(c.id, "wombat", 5)).length, 1);
    });

    it("writes to one collection concurrently without losing counts", async () => {
      const s = await open();
      const c = await s.ensureCollection("concurrent", "c");
      await Promise.all(Array.from({ length: 12 }, (_, i) => s.putDocument(c.id, doc(`d${i % 4}`, [`wombat ${i}`, "second chunk"]))));
      assert.equal((await s.listDocuments(c.id)).length, 4);
      const stats = await s.queryTermStats(c.id, "wombat");
      assert.equal(stats.chunks, 8, "chunk counter matches the rows");
      assert.equal((await s.lexicalSearch(c.id, "wombat", 10)).length, 4);
    });
  });

  retrievalStoreContract("PostgreSQL (no pgvector here)", open, { vectors: false });
}
