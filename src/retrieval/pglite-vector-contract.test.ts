// The RetrievalStore contract with vectors, on PGlite (in-process PostgreSQL)
// with its pgvector extension: the same PgRetrievalStore code as on a pg.Pool,
// behind pgliteQueryable. One PGlite instance for the file (it takes seconds to
// start); each test works in its own tenant. Also a Retriever-level test: with
// store.denseSearch the Retriever searches densely in SQL.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite/vector";
import { PgRetrievalStore, pgliteQueryable } from "./postgres/index.js";
import { Retriever } from "./retriever.js";
import { retrievalStoreContract } from "./store-contract.js";
import { doc } from "./test-support.js";
import type { Embedder } from "./types.js";

let pglite: Promise<PGlite> | undefined;
let store: Promise<PgRetrievalStore> | undefined;
const open = () =>
  (store ??= (pglite ??= PGlite.create({ extensions: { vector } })).then((db) => PgRetrievalStore.open(pgliteQueryable(db))));
after(async () => {
  await (await pglite)?.close();
});

describe("PgRetrievalStore on PGlite with pgvector", () => {
  it("installs pgvector and builds a partial HNSW index per embedded collection", async () => {
    const s = await open();
    assert.equal(s.vectors, true);
    const c = await s.ensureCollection("hnsw", "c");
    await s.setEmbeddingModel(c.id, "m", 8);
    const db = await pglite!;
    const { rows } = await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'retrieval_chunk_vectors' AND indexdef LIKE '%hnsw%'");
    assert.ok(rows.some((r) => r.indexdef.includes(c.id) && /vector\(8\)/.test(r.indexdef) && /vector_cosine_ops/.test(r.indexdef)), JSON.stringify(rows));
    assert.equal(await s.deleteCollection("hnsw", "c"), true);
    const left = await db.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE tablename = 'retrieval_chunk_vectors'");
    assert.ok(!left.rows.some((r) => r.indexdef.includes(c.id)), "the collection's index is dropped with it");
  });

  it("Retriever: hybrid search ranks a dense-only and a lexical-only match into the top k", async () => {
    const s = await open();
    const c = await s.ensureCollection("hybrid", "kb");
    const D = 4;
    await s.setEmbeddingModel(c.id, "axes", D);
    const axis = (i: number) => Float32Array.from({ length: D }, (_, j) => (j === i ? 1 : 0));
    const put = (source: string, text: string, v: Float32Array) => s.putDocument(c.id, { ...doc(source, text), vectors: [v] });
    // The query "feline companion" embeds to axis 0.
    const dense = await put("dense", "Cats purr softly when they are content.", axis(0)); // no query word, nearest vector
    const lexical = await put("lexical", "A feline companion guide for new owners.", axis(1)); // query words, far vector
    await put("noise1", "Tax forms are due in April.", axis(2));
    await put("noise2", "Trains leave the station hourly.", axis(3));
    await put("noise3", "Mountains erode over millions of years.", Float32Array.from([0, 0.6, 0.8, 0]));
    let calls = 0;
    const embedder: Embedder = {
      model: "axes",
      embed: async (texts) => texts.map(() => (calls++, axis(0))),
    };
    let replayed = false;
    const spy = Object.assign(Object.create(s) as PgRetrievalStore, {
      vectorsSince: async () => {
        replayed = true;
        return { rows: [], deletedChunkIds: [] };
      },
    });
    const retriever = new Retriever(spy, { embedder });
    const r = await retriever.search({ tenant: "hybrid", collection: "kb", query: "feline companion", mode: "hybrid", k: 2, mmr: false });
    assert.equal(r.mode, "hybrid");
    assert.deepEqual(r.hits.map((h) => h.document.source).sort(), ["dense", "lexical"]);
    const byId = new Map(r.hits.map((h) => [h.chunk.documentId, h]));
    assert.ok(byId.get(dense.id)!.denseScore! > 0.99 && byId.get(dense.id)!.lexicalScore === undefined, "dense-only");
    assert.ok(byId.get(lexical.id)!.lexicalScore! > 0, "lexical match");
    assert.equal(replayed, false, "no in-memory index: dense search ran in SQL");
    assert.ok(calls >= 1);
    const d = await retriever.search({ tenant: "hybrid", collection: "kb", query: "feline companion", mode: "dense", k: 1 });
    assert.equal(d.hits[0]!.document.source, "dense");
    const f = await retriever.search({ tenant: "hybrid", collection: "kb", query: "feline companion", mode: "dense", k: 1, filter: { missing: 1 } });
    assert.deepEqual(f.hits, []);
  });
});

retrievalStoreContract("PGlite + pgvector", open, { vectors: true });
