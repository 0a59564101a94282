import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openDatabase } from "../data/index.js";
import { SqliteRetrievalStore } from "./sqlite/retrieval-store.js";
import { StratumError } from "../core/errors.js";
import { reciprocalRankFusion } from "./fusion.js";
import { Retriever } from "./retriever.js";
import { DIMS, doc, FakeEmbedder, memoryStore, withVectors } from "./test-support.js";

const TOPICS = [
  ["solar", "Solar panels convert sunlight into electricity using photovoltaic cells."],
  ["wind", "Wind turbines generate electricity from moving air with large rotor blades."],
  ["coffee", "Brewing coffee needs freshly ground beans and water just off the boil."],
  ["bread", "Sourdough bread rises slowly thanks to wild yeast in the starter."],
  ["rust", "The Rust borrow checker enforces memory safety without a garbage collector."],
  ["tides", "Ocean tides are driven by the gravitational pull of the moon."],
] as const;

async function setup(embedded = true) {
  const store = memoryStore();
  const c = await store.ensureCollection("acme", "kb");
  if (embedded) await store.setEmbeddingModel(c.id, "fake-embed", DIMS);
  for (const [source, text] of TOPICS) await store.putDocument(c.id, embedded ? withVectors(doc(source, text)) : doc(source, text));
  const embedder = new FakeEmbedder();
  return { store, c, embedder, retriever: new Retriever(store, { embedder }) };
}

describe("Retriever", () => {
  it("fuses lexical and dense lists with RRF", () => {
    const fused = reciprocalRankFusion([[{ chunkId: "a" }, { chunkId: "b" }], [{ chunkId: "b" }, { chunkId: "c" }]]);
    assert.deepEqual(fused.map((f) => f.chunkId), ["b", "a", "c"]);
    assert.ok(Math.abs(fused[0]!.score - (1 / 62 + 1 / 61)) < 1e-12);
  });

  it("searches densely, lexically and hybrid, best first", async () => {
    const { retriever, embedder } = await setup();
    for (const mode of ["dense", "lexical", "hybrid"] as const) {
      const r = await retriever.search({ tenant: "acme", collection: "kb", query: "photovoltaic sunlight electricity", mode, k: 3 });
      assert.equal(r.mode, mode);
      assert.equal(r.hits[0]!.document.source, "solar", mode);
      assert.ok(r.hits.length <= 3);
    }
    const h = await retriever.search({ tenant: "acme", collection: "kb", query: "photovoltaic sunlight electricity", mode: "hybrid", k: 3, mmr: false });
    assert.ok(h.hits[0]!.lexicalScore! > 0 && h.hits[0]!.denseScore! > 0.5);
    assert.ok(h.hits.every((x, i) => i === 0 || h.hits[i - 1]!.score >= x.score));
    assert.ok(embedder.calls >= 3);
  });

  it("falls back to lexical when the collection has no vectors or no embedder matches", async () => {
    const { store } = await setup(false);
    const r = await new Retriever(store, { embedder: new FakeEmbedder() }).search({ tenant: "acme", collection: "kb", query: "sourdough yeast", mode: "hybrid" });
    assert.equal(r.mode, "lexical");
    assert.equal(r.hits[0]!.document.source, "bread");
    const other = await new Retriever((await setup()).store, { embedder: new FakeEmbedder("other-model") }).search({ tenant: "acme", collection: "kb", query: "tides", mode: "dense" });
    assert.equal(other.mode, "lexical");
  });

  it("sees documents added after the ANN index was built (catch-up by version)", async () => {
    const { store, c, retriever } = await setup();
    await retriever.search({ tenant: "acme", collection: "kb", query: "coffee", mode: "dense" });
    await store.putDocument(c.id, withVectors(doc("volcano", "Volcanic eruptions eject magma, ash and volcanic gases.")));
    const coffee = await store.findDocumentBySource(c.id, "coffee");
    await store.deleteDocument(c.id, coffee!.id);
    const r = await retriever.search({ tenant: "acme", collection: "kb", query: "volcanic magma eruptions", mode: "dense", k: 2 });
    assert.equal(r.hits[0]!.document.source, "volcano");
    const gone = await retriever.search({ tenant: "acme", collection: "kb", query: "brewing coffee beans", mode: "dense", k: 6 });
    assert.ok(gone.hits.every((x) => x.document.source !== "coffee"), "deleted chunks leave the ANN index");
  });

  it("MMR keeps near-duplicates from filling the top k", async () => {
    for (const embedded of [true, false]) {
      const { store, c, retriever } = await setup(embedded);
      const dup = "Kubernetes pods schedule containers onto cluster nodes with the kube scheduler.";
      for (let i = 0; i < 4; i++) {
        const d = doc(`dup${i}`, `${dup} Copy ${i}.`);
        await store.putDocument(c.id, embedded ? withVectors(d) : d);
      }
      const d = doc("distinct", "Kubernetes nodes run a kubelet agent that reports pod health.");
      await store.putDocument(c.id, embedded ? withVectors(d) : d);
      const q = { tenant: "acme", collection: "kb", query: "kubernetes pods scheduler nodes containers", k: 3 };
      const plain = await retriever.search({ ...q, mmr: false });
      assert.ok(plain.hits.every((h) => h.document.source.startsWith("dup")), "without MMR the duplicates win");
      const diverse = await retriever.search({ ...q, mmr: { lambda: 0.5 } });
      assert.ok(diverse.hits.some((h) => h.document.source === "distinct"), `with MMR (embedded=${embedded}) a distinct chunk gets in`);
      assert.ok(diverse.hits[0]!.document.source.startsWith("dup"), "the most relevant stays first");
    }
  });

  it("confidence is high for a well answered query and low when the terms barely occur", async () => {
    for (const embedded of [false, true]) {
      const { retriever } = await setup(embedded);
      const good = await retriever.search({ tenant: "acme", collection: "kb", query: "How does the Rust borrow checker give memory safety?" });
      const bad = await retriever.search({ tenant: "acme", collection: "kb", query: "quarterly revenue forecast for the electricity division" });
      assert.ok(good.confidence > 0.6, `good ${good.confidence} (embedded=${embedded})`);
      assert.ok(bad.confidence < 0.3, `bad ${bad.confidence} (embedded=${embedded})`);
      assert.ok(good.confidence <= 1 && bad.confidence >= 0);
      const none = await retriever.search({ tenant: "acme", collection: "kb", query: "zzzqqq" });
      if (embedded) assert.ok(none.confidence < 0.3, `none ${none.confidence}`);
      else assert.equal(none.confidence, 0);
    }
  });

  it("applies metadata filters to dense and hybrid hits", async () => {
    const { store, c, retriever } = await setup();
    await store.putDocument(c.id, withVectors(doc("solar-de", "Solar panels convert sunlight into electricity.", { lang: "de" })));
    const r = await retriever.search({ tenant: "acme", collection: "kb", query: "solar sunlight electricity", filter: { lang: "de" }, k: 5 });
    assert.deepEqual(r.hits.map((h) => h.document.source), ["solar-de"]);
    await assert.rejects(retriever.search({ tenant: "acme", collection: "kb", query: "x", filter: { "no spaces": 1 } }), (e) => e instanceof StratumError && e.kind === "InvalidRequest");
  });

  it("isolates tenants: another tenant can never reach a collection's chunks", async () => {
    const { store, c, retriever } = await setup();
    const mine = await store.ensureCollection("globex", "kb");
    await store.putDocument(mine.id, doc("g", "Globex secret plans mention photovoltaic sunlight."));
    const r = await retriever.search({ tenant: "globex", collection: "kb", query: "photovoltaic sunlight electricity rust borrow", k: 10 });
    assert.deepEqual(r.hits.map((h) => h.document.source), ["g"]);
    assert.ok(r.hits.every((h) => h.chunk.collectionId === mine.id));
    // Knowing the other tenant's collection id or name does not help: lookups are by (tenant, name) only.
    await assert.rejects(retriever.search({ tenant: "globex", collection: c.id, query: "solar" }), (e) => e instanceof StratumError && e.kind === "NotFound");
    await assert.rejects(retriever.search({ tenant: "initech", collection: "kb", query: "solar" }), (e) => e instanceof StratumError && e.kind === "NotFound");
    const acme = await retriever.search({ tenant: "acme", collection: "kb", query: "globex secret plans", k: 10 });
    assert.ok(acme.hits.every((h) => h.document.source !== "g"));
  });

  it("a server's retriever sees vectors another connection (a CLI ingest) writes, without restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratum-retriever-"));
    try {
      const file = join(dir, "db.sqlite");
      const cli = new SqliteRetrievalStore(openDatabase(file));
      const server = new SqliteRetrievalStore(openDatabase(file));
      const c = await cli.ensureCollection("acme", "kb");
      await cli.setEmbeddingModel(c.id, "fake-embed", DIMS);
      await cli.putDocument(c.id, withVectors(doc("a", "Glaciers carve valleys over thousands of years.")));
      const retriever = new Retriever(server, { embedder: new FakeEmbedder() });
      const first = await retriever.search({ tenant: "acme", collection: "kb", query: "glaciers valleys", mode: "dense" });
      assert.equal(first.hits[0]!.document.source, "a");
      await cli.putDocument(c.id, withVectors(doc("b", "Hummingbirds hover by beating their wings rapidly.")));
      const second = await retriever.search({ tenant: "acme", collection: "kb", query: "hummingbirds hover wings", mode: "dense" });
      assert.equal(second.hits[0]!.document.source, "b");
      await cli.close();
      await server.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
