import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDatabase } from "../data/index.js";
import { SqliteRetrievalStore } from "./sqlite/retrieval-store.js";
import { DIMS, doc, memoryStore, withVectors } from "./test-support.js";

describe("SqliteRetrievalStore", () => {
  it("keeps collections per tenant, unique by name", async () => {
    const s = memoryStore();
    const a = await s.ensureCollection("t1", "docs");
    const again = await s.ensureCollection("t1", "docs");
    const b = await s.ensureCollection("t2", "docs");
    assert.equal(a.id, again.id);
    assert.notEqual(a.id, b.id);
    assert.deepEqual((await s.listCollections("t1")).map((c) => c.name), ["docs"]);
    assert.equal((await s.getCollection("t1", "nope")), undefined);
    assert.equal(await s.deleteCollection("t1", "docs"), true);
    assert.equal(await s.deleteCollection("t1", "docs"), false);
    assert.equal((await s.getCollection("t2", "docs"))?.id, b.id);
  });

  it("puts, replaces by source and deletes documents, bumping the version", async () => {
    const s = memoryStore();
    const c = await s.ensureCollection("t", "c");
    const d1 = await s.putDocument(c.id, doc("a.md", ["alpha one", "alpha two", "alpha three"], { lang: "en" }));
    const v1 = (await s.getCollection("t", "c"))!.version;
    assert.equal(d1.chunkCount, 3);
    assert.deepEqual(d1.metadata, { lang: "en" });
    assert.equal((await s.findDocumentBySource(c.id, "a.md"))?.id, d1.id);
    const chunks = await s.getChunks([`${d1.id}:2`, `${d1.id}:0`]);
    assert.deepEqual(chunks.map((x) => x.text), ["alpha three", "alpha one"]);

    const d2 = await s.putDocument(c.id, doc("a.md", ["beta only"]));
    assert.equal(d2.id, d1.id, "replacing keeps the document id");
    assert.equal(d2.createdAt, d1.createdAt);
    assert.ok((await s.getCollection("t", "c"))!.version > v1);
    assert.deepEqual((await s.getChunks([`${d1.id}:0`, `${d1.id}:1`])).map((x) => x.text), ["beta only"]);
    assert.deepEqual(await s.lexicalSearch(c.id, "alpha", 5), [], "old chunks leave the lexical index");
    assert.equal((await s.lexicalSearch(c.id, "beta", 5)).length, 1);

    assert.equal(await s.deleteDocument(c.id, d1.id), true);
    assert.equal(await s.deleteDocument(c.id, d1.id), false);
    assert.deepEqual(await s.getChunks([`${d1.id}:0`]), []);
    assert.deepEqual(await s.lexicalSearch(c.id, "beta", 5), []);
    assert.deepEqual(await s.listDocuments(c.id), []);
  });

  it("cascades a collection delete to documents, chunks, index and vectors", async () => {
    const s = memoryStore();
    const c = await s.ensureCollection("t", "c");
    await s.setEmbeddingModel(c.id, "m", DIMS);
    const d = await s.putDocument(c.id, withVectors(doc("a", ["gamma ray burst"])));
    assert.equal((await s.vectorsSince(c.id, 0)).rows.length, 1);
    await s.deleteCollection("t", "c");
    assert.deepEqual(await s.getChunks([`${d.id}:0`]), []);
    assert.deepEqual((await s.vectorsSince(c.id, 0)).rows, []);
    const again = await s.ensureCollection("t", "c");
    assert.deepEqual(await s.lexicalSearch(again.id, "gamma", 5), []);
  });

  it("logs vector changes so an index can catch up incrementally", async () => {
    const s = memoryStore();
    const c = await s.ensureCollection("t", "c");
    await s.setEmbeddingModel(c.id, "m", DIMS);
    const d = await s.putDocument(c.id, withVectors(doc("a", ["one", "two"])));
    const first = await s.vectorsSince(c.id, 0);
    assert.deepEqual(first.rows.map((r) => r.chunkId), [`${d.id}:0`, `${d.id}:1`]);
    assert.equal(first.rows[0]!.vector.length, DIMS);
    await s.putDocument(c.id, withVectors(doc("a", ["uno"])));
    const next = await s.vectorsSince(c.id, first.nextRowId!);
    assert.deepEqual(next.deletedChunkIds.sort(), [`${d.id}:0`, `${d.id}:1`]);
    assert.deepEqual(next.rows.map((r) => r.chunkId), [`${d.id}:0`]);
    await assert.rejects(s.putDocument(c.id, { ...doc("b", ["x"]), vectors: [new Float32Array(3)] }), /dimensions/);
  });

  it("puts a batch of documents in one transaction (all or none)", async () => {
    const s = memoryStore();
    const c = await s.ensureCollection("t", "c");
    const out = await s.putDocuments(c.id, [doc("a", "first"), doc("b", "second")]);
    assert.equal(out.length, 2);
    await assert.rejects(s.putDocuments(c.id, [doc("c", "third"), { ...doc("d", "x"), vectors: [new Float32Array(2)] }]));
    assert.equal((await s.listDocuments(c.id)).length, 2, "the failed batch left nothing behind");
  });

  it("applies its schema idempotently and records the schema version", () => {
    const db = openDatabase(":memory:");
    new SqliteRetrievalStore(db);
    new SqliteRetrievalStore(db);
    assert.deepEqual(db.prepare("SELECT value FROM retrieval_meta WHERE key = 'retrieval_schema_version'").get(), { value: "1" });
  });

  it("a second connection on the same file sees new documents without restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratum-retrieval-"));
    try {
      const file = join(dir, "db.sqlite");
      const writer = new SqliteRetrievalStore(openDatabase(file));
      const reader = new SqliteRetrievalStore(openDatabase(file));
      const c = await writer.ensureCollection("t", "c");
      await writer.putDocument(c.id, doc("a", "first document about kangaroos"));
      const rc = (await reader.getCollection("t", "c"))!;
      assert.equal((await reader.lexicalSearch(rc.id, "kangaroos", 5)).length, 1);
      await writer.putDocument(c.id, doc("b", "second document about wombats"));
      assert.equal((await reader.lexicalSearch(rc.id, "wombats", 5)).length, 1);
      const c2 = await writer.ensureCollection("t", "fresh");
      await writer.putDocument(c2.id, doc("x", "platypus"));
      const r2 = (await reader.getCollection("t", "fresh"))!;
      assert.equal((await reader.lexicalSearch(r2.id, "platypus", 5)).length, 1, "a collection created by another process is searchable");
      await writer.close();
      await reader.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
