// The RetrievalStore contract as a reusable node:test suite: every store
// (SQLite, PostgreSQL, PGlite + pgvector) runs the same assertions. Each test
// works in its own tenant, so a factory may hand out one shared store/database.
// Not part of the build (test support).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, it } from "node:test";
import { DIMS, doc, hashVector, withVectors } from "./test-support.js";
import type { Metadata, MetadataFilter, NewDocument, RetrievalStore } from "./types.js";

export interface StoreContractOptions {
  /** The store keeps vectors (setEmbeddingModel, vectors in putDocument, vectorsSince / denseSearch). */
  vectors: boolean;
}

export type StoreFactory = () => RetrievalStore | Promise<RetrievalStore>;

const chunkOf = (id: string) => `${id}:0`;

export function retrievalStoreContract(name: string, factory: StoreFactory, opts: StoreContractOptions): void {
  const fresh = async () => ({ s: await factory(), tenant: `t-${randomUUID()}` });

  async function corpus() {
    const { s, tenant } = await fresh();
    const c = await s.ensureCollection(tenant, "c");
    const ids: Record<string, string> = {};
    const put = async (source: string, text: string, meta: Metadata = {}) => {
      ids[source] = (await s.putDocument(c.id, doc(source, text, meta))).id;
    };
    await put("common1", "The system stores data and the system reads data quickly.", { year: 2020, lang: "en", draft: false, date: "2024-01-15" });
    await put("common2", "Data flows through the system; the data system is fast.", { year: 2021, lang: "de", draft: true, date: "2024-03-01" });
    await put("rare", "The system uses a flux capacitor to store data.", { year: 2022, lang: "en", draft: false, date: "2024-06-30" });
    await put("other", "Unrelated text about gardening, tomatoes and soil.", { year: 2023, lang: "fr", draft: false, nested: "x", date: "2025-01-01" });
    return { s, c, ids, tenant };
  }

  describe(`RetrievalStore contract: ${name}`, () => {
    it("keeps collections per tenant, unique by name", async () => {
      const { s, tenant } = await fresh();
      const t2 = `${tenant}-other`;
      const a = await s.ensureCollection(tenant, "docs");
      const again = await s.ensureCollection(tenant, "docs");
      const b = await s.ensureCollection(t2, "docs");
      assert.equal(a.id, again.id);
      assert.notEqual(a.id, b.id);
      assert.equal(a.tenant, tenant);
      assert.equal(a.embeddingModel, null);
      await s.ensureCollection(tenant, "alpha");
      assert.deepEqual((await s.listCollections(tenant)).map((c) => c.name), ["alpha", "docs"]);
      assert.equal(await s.getCollection(tenant, "nope"), undefined);
      assert.equal(await s.getCollection(`${tenant}-nobody`, "docs"), undefined);
      assert.equal(await s.deleteCollection(tenant, "docs"), true);
      assert.equal(await s.deleteCollection(tenant, "docs"), false);
      assert.equal((await s.getCollection(t2, "docs"))?.id, b.id);
      await Promise.all([s.ensureCollection(tenant, "race"), s.ensureCollection(tenant, "race"), s.ensureCollection(tenant, "race")]);
      assert.equal((await s.listCollections(tenant)).filter((c) => c.name === "race").length, 1);
    });

    it("puts, replaces by source and deletes documents, bumping the version", async () => {
      const { s, tenant } = await fresh();
      const c = await s.ensureCollection(tenant, "c");
      const v0 = c.version;
      const d1 = await s.putDocument(c.id, doc("a.md", ["alpha one", "alpha two", "alpha three"], { lang: "en", n: 3, ok: true }));
      const v1 = (await s.getCollection(tenant, "c"))!.version;
      assert.ok(v1 > v0);
      assert.equal(d1.chunkCount, 3);
      assert.equal(d1.source, "a.md");
      assert.deepEqual(d1.metadata, { lang: "en", n: 3, ok: true });
      assert.equal((await s.findDocumentBySource(c.id, "a.md"))?.id, d1.id);
      assert.deepEqual(await s.getDocument(c.id, d1.id), d1);
      assert.equal(await s.findDocumentBySource(c.id, "missing"), undefined);
      const chunks = await s.getChunks([`${d1.id}:2`, "nope:0", `${d1.id}:0`]);
      assert.deepEqual(chunks.map((x) => x.text), ["alpha three", "alpha one"], "in the order asked, unknown ids left out");
      assert.deepEqual(chunks[0], { id: `${d1.id}:2`, documentId: d1.id, collectionId: c.id, ordinal: 2, text: "alpha three", headings: [], start: 0, end: 11, tokens: 2 });

      const d2 = await s.putDocument(c.id, doc("a.md", ["beta only"]));
      assert.equal(d2.id, d1.id, "replacing keeps the document id");
      assert.equal(d2.createdAt, d1.createdAt);
      assert.deepEqual(d2.metadata, {});
      const v2 = (await s.getCollection(tenant, "c"))!.version;
      assert.ok(v2 > v1);
      assert.deepEqual((await s.getChunks([`${d1.id}:0`, `${d1.id}:1`])).map((x) => x.text), ["beta only"]);
      assert.deepEqual(await s.lexicalSearch(c.id, "alpha", 5), [], "old chunks leave the lexical index");
      assert.equal((await s.lexicalSearch(c.id, "beta", 5)).length, 1);
      assert.equal((await s.listDocuments(c.id)).length, 1);

      assert.equal(await s.deleteDocument(c.id, d1.id), true);
      assert.ok((await s.getCollection(tenant, "c"))!.version > v2);
      assert.equal(await s.deleteDocument(c.id, d1.id), false);
      assert.deepEqual(await s.getChunks([`${d1.id}:0`]), []);
      assert.deepEqual(await s.lexicalSearch(c.id, "beta", 5), []);
      assert.deepEqual(await s.listDocuments(c.id), []);
    });

    it("keeps headings and documents in source order", async () => {
      const { s, tenant } = await fresh();
      const c = await s.ensureCollection(tenant, "c");
      const d: NewDocument = { ...doc("b.md", "body text"), chunks: [{ ordinal: 0, text: "body text", headings: ["Install", "Linux"], start: 5, end: 14, tokens: 2 }] };
      const rec = await s.putDocument(c.id, d);
      await s.putDocument(c.id, doc("a.md", "other"));
      assert.deepEqual((await s.getChunks([`${rec.id}:0`]))[0]!.headings, ["Install", "Linux"]);
      assert.deepEqual((await s.listDocuments(c.id)).map((x) => x.source), ["a.md", "b.md"]);
    });

    it("cascades a collection delete to documents, chunks and the index", async () => {
      const { s, tenant } = await fresh();
      const c = await s.ensureCollection(tenant, "c");
      if (opts.vectors) await s.setEmbeddingModel(c.id, "m", DIMS);
      const d = await s.putDocument(c.id, opts.vectors ? withVectors(doc("a", ["gamma ray burst"])) : doc("a", ["gamma ray burst"]));
      if (opts.vectors) assert.equal((await s.vectorsSince(c.id, 0)).rows.length, 1);
      assert.equal(await s.deleteCollection(tenant, "c"), true);
      assert.deepEqual(await s.getChunks([`${d.id}:0`]), []);
      assert.equal(await s.getDocument(c.id, d.id), undefined);
      assert.deepEqual((await s.vectorsSince(c.id, 0)).rows, []);
      const again = await s.ensureCollection(tenant, "c");
      assert.notEqual(again.id, c.id);
      assert.deepEqual(await s.lexicalSearch(again.id, "gamma", 5), []);
      assert.deepEqual(await s.listDocuments(again.id), []);
    });

    it("puts a batch of documents in one transaction (all or none)", async (t) => {
      const { s, tenant } = await fresh();
      if (!s.putDocuments) return t.skip("no putDocuments");
      const c = await s.ensureCollection(tenant, "c");
      const out = await s.putDocuments(c.id, [doc("a", "first"), doc("b", "second")]);
      assert.equal(out.length, 2);
      // The second document fails inside the transaction (vectors for a collection without an embedding model).
      await assert.rejects(s.putDocuments(c.id, [doc("c", "third"), { ...doc("d", "x"), vectors: [new Float32Array(2)] }]));
      assert.equal((await s.listDocuments(c.id)).length, 2, "the failed batch left nothing behind");
      assert.deepEqual(await s.lexicalSearch(c.id, "third", 5), []);
    });

    it("ranks the chunk with the rare query term first, best first", async () => {
      const { s, c, ids } = await corpus();
      const hits = await s.lexicalSearch(c.id, "system data capacitor", 4);
      assert.equal(hits[0]!.chunkId, chunkOf(ids.rare!));
      assert.equal(hits.length, 3, "the unrelated document does not match");
      assert.ok(hits.every((h, i) => i === 0 || hits[i - 1]!.score >= h.score), "best first");
      assert.ok(hits.every((h) => Number.isFinite(h.score) && h.score > 0));
      assert.equal((await s.lexicalSearch(c.id, "system data", 2)).length, 2, "k bounds the hits");
      assert.deepEqual(await s.lexicalSearch(c.id, "system", 0), []);
    });

    it("boosts titles and headings over body text", async () => {
      const { s, tenant } = await fresh();
      const c = await s.ensureCollection(tenant, "c");
      const body = await s.putDocument(c.id, doc("body", "notes on kangaroo habitats and grassland feeding", {}, "Field notes"));
      const heading: NewDocument = {
        ...doc("heading", "notes on habitats and grassland feeding patterns", {}, "Field notes"),
        chunks: [{ ordinal: 0, text: "notes on habitats and grassland feeding patterns", headings: ["Kangaroo"], start: 0, end: 10, tokens: 7 }],
      };
      const h = await s.putDocument(c.id, heading);
      const t = await s.putDocument(c.id, doc("title", "notes on habitats and grassland feeding patterns", {}, "Kangaroo"));
      const hits = await s.lexicalSearch(c.id, "kangaroo", 3);
      assert.equal(hits.length, 3);
      assert.equal(hits[2]!.chunkId, chunkOf(body.id), "body-only match ranks last");
      assert.deepEqual(hits.slice(0, 2).map((x) => x.chunkId).sort(), [chunkOf(h.id), chunkOf(t.id)].sort());
    });

    it("never throws on hostile queries", async () => {
      const { s, c } = await corpus();
      const hostile = [
        '"', '""', "'", "''", 'system" OR "', "NEAR(system data, 2)", "system*", "*", "text:system", "col:", "(((", ")", "!", "&|!<->",
        "system & data | !flux", "system <-> data", "'system':*", "AND OR NOT", "^system", "-system", "system + data", "\u0000\u0001",
        "💥 flux ✨", "ｆｕｌｌｗｉｄｔｈ", "x".repeat(10_000), Array.from({ length: 2000 }, (_, i) => `w${i}`).join(" "), "données système",
        "", "   ", "{system}", "system:*", "NOT", "'; DROP TABLE retrieval_chunks; --", "$1 $2 \\", "\ud800 lone surrogate",
      ];
      for (const q of hostile) await assert.doesNotReject(s.lexicalSearch(c.id, q, 5), `query ${JSON.stringify(q.slice(0, 40))}`);
      assert.equal((await s.lexicalSearch(c.id, 'NEAR("flux" capacitor)', 5)).length, 1);
      assert.equal((await s.lexicalSearch(c.id, "'; DROP TABLE x; -- flux", 5)).length, 1);
      assert.deepEqual(await s.lexicalSearch(c.id, "", 5), []);
      assert.deepEqual(await s.lexicalSearch(`no-such-${randomUUID()}`, "system", 5), [], "unknown collection: nothing");
    });

    it("applies metadata filters with a correct top k", async () => {
      const { s, c, ids } = await corpus();
      const only = async (f: MetadataFilter, q = "system data tomatoes") => (await s.lexicalSearch(c.id, q, 10, f)).map((h) => h.chunkId).sort();
      const of = (...names: string[]) => names.map((n) => chunkOf(ids[n]!)).sort();
      assert.deepEqual(await only({ lang: "de" }), of("common2"));
      assert.deepEqual(await only({ lang: { in: ["fr", "de"] } }), of("common2", "other"));
      assert.deepEqual(await only({ year: { in: [2020, 2023] } }), of("common1", "other"));
      assert.deepEqual(await only({ year: { gte: 2022 } }), of("rare", "other"));
      assert.deepEqual(await only({ year: { gt: 2020, lt: 2023 } }), of("common2", "rare"));
      assert.deepEqual(await only({ year: { lte: 2020 } }), of("common1"));
      assert.deepEqual(await only({ date: { gte: "2024-02-01", lt: "2025-01-01" } }), of("common2", "rare"), "ISO date strings compare as strings");
      assert.deepEqual(await only({ draft: true }), of("common2"));
      assert.deepEqual(await only({ draft: false, lang: "en" }), of("common1", "rare"));
      assert.deepEqual(await only({ year: 2021 }), of("common2"));
      assert.deepEqual(await only({ year: "2021" }), [], "a string never equals a number");
      assert.deepEqual(await only({ nested: "x" }), of("other"));
      assert.deepEqual(await only({ missing: "x" }), []);
      assert.deepEqual(await only({ lang: { in: [] } }), []);
      // k=1 under a filter returns the best of the filtered set, not a filtered top 1.
      const top = await s.lexicalSearch(c.id, "system data capacitor", 1, { lang: "de" });
      assert.deepEqual(top.map((h) => h.chunkId), of("common2"));
      await assert.rejects(s.lexicalSearch(c.id, "x", 5, { "bad field'); DROP TABLE x; --": 1 }), /invalid metadata field/);
      await assert.rejects(s.lexicalSearch(c.id, "x", 5, { year: {} as MetadataFilter[string] }), /expected a value/);
    });

    it("reports query term frequencies when it can", async (t) => {
      const { s, c } = await corpus();
      if (!s.queryTermStats) return t.skip("no queryTermStats");
      const stats = await s.queryTermStats(c.id, "capacitor tomatoes zyzzyva");
      assert.equal(stats.chunks, 4);
      const df = new Map(stats.terms.map((x) => [x.term, x.df]));
      assert.equal(df.get("capacitor"), 1);
      assert.equal(df.get("tomato"), 1);
      assert.equal(df.get("zyzzyva") ?? 0, 0);
    });

    if (opts.vectors) {
      it("logs vector changes so an index can catch up incrementally", async () => {
        const { s, tenant } = await fresh();
        const c = await s.ensureCollection(tenant, "c");
        await s.setEmbeddingModel(c.id, "m", DIMS);
        const col = (await s.getCollection(tenant, "c"))!;
        assert.equal(col.embeddingModel, "m");
        assert.equal(col.dimensions, DIMS);
        const d = await s.putDocument(c.id, withVectors(doc("a", ["one", "two"])));
        const first = await s.vectorsSince(c.id, 0);
        assert.deepEqual(first.rows.map((r) => r.chunkId), [`${d.id}:0`, `${d.id}:1`]);
        assert.equal(first.rows[0]!.vector.length, DIMS);
        const expected = hashVector("one");
        assert.ok(first.rows[0]!.vector.every((x, i) => Math.abs(x - expected[i]!) < 1e-6), "vectors round-trip");
        await s.putDocument(c.id, withVectors(doc("a", ["uno"])));
        const next = await s.vectorsSince(c.id, first.nextRowId!);
        assert.deepEqual(next.deletedChunkIds.sort(), [`${d.id}:0`, `${d.id}:1`]);
        assert.deepEqual(next.rows.map((r) => r.chunkId), [`${d.id}:0`]);
        const none = await s.vectorsSince(c.id, next.nextRowId!);
        assert.deepEqual([none.rows, none.deletedChunkIds], [[], []]);
        await assert.rejects(s.putDocument(c.id, { ...doc("b", ["x"]), vectors: [new Float32Array(3)] }), /dimensions/);
        await assert.rejects(s.setEmbeddingModel(c.id, "m", DIMS + 1), /cannot switch/);
      });

      it("searches densely with cosine similarity, filters before the top k", async (t) => {
        const { s, tenant } = await fresh();
        if (!s.denseSearch) return t.skip("no denseSearch (the Retriever keeps an in-memory index)");
        const c = await s.ensureCollection(tenant, "c");
        await s.setEmbeddingModel(c.id, "m", DIMS);
        const texts = ["solar panels sunlight", "wind turbines blades", "coffee beans brewing", "sourdough bread yeast", "ocean tides moon"];
        const ids: string[] = [];
        for (const [i, text] of texts.entries()) ids.push((await s.putDocument(c.id, withVectors(doc(`d${i}`, text, { i, even: i % 2 === 0 })))).id);
        const hits = await s.denseSearch(c.id, hashVector("coffee beans brewing"), 3);
        assert.equal(hits.length, 3);
        assert.equal(hits[0]!.chunkId, chunkOf(ids[2]!));
        assert.ok(Math.abs(hits[0]!.score - 1) < 1e-5, `identical vector: cosine 1 (got ${hits[0]!.score})`);
        assert.ok(hits.every((h, i) => i === 0 || hits[i - 1]!.score >= h.score));
        const filtered = await s.denseSearch(c.id, hashVector("coffee beans brewing"), 2, { even: false });
        assert.deepEqual(filtered.map((h) => h.chunkId).sort(), [chunkOf(ids[1]!), chunkOf(ids[3]!)].sort(), "top k of the filtered set");
        assert.deepEqual(await s.denseSearch(c.id, hashVector("x"), 5, { i: { in: [] } }), []);
        await s.deleteDocument(c.id, ids[2]!);
        assert.ok(!(await s.denseSearch(c.id, hashVector("coffee beans brewing"), 5)).some((h) => h.chunkId === chunkOf(ids[2]!)), "deleted vectors leave");
        const other = await s.ensureCollection(tenant, "other");
        assert.deepEqual(await s.denseSearch(other.id, hashVector("coffee"), 5), [], "collections are separate");
      });
    }
  });
}
