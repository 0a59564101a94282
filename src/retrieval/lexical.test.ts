import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { analyze } from "./analyzer.js";
import { doc, memoryStore } from "./test-support.js";

async function corpus() {
  const s = memoryStore();
  const c = await s.ensureCollection("t", "c");
  const ids: Record<string, string> = {};
  const put = async (source: string, text: string, meta = {}) => { ids[source] = (await s.putDocument(c.id, doc(source, text, meta))).id; };
  await put("common1", "The system stores data and the system reads data quickly.", { year: 2020, lang: "en", draft: false });
  await put("common2", "Data flows through the system; the data system is fast.", { year: 2021, lang: "de", draft: true });
  await put("rare", "The system uses a flux capacitor to store data.", { year: 2022, lang: "en", draft: false });
  await put("other", "Unrelated text about gardening, tomatoes and soil.", { year: 2023, lang: "fr", draft: false, nested: "x" });
  return { s, c, ids };
}
const chunkOf = (id: string) => `${id}:0`;

describe("analyzer", () => {
  it("stems, folds diacritics and drops stopwords", () => {
    assert.deepEqual(analyze("The Café's RUNNING jumps"), ["cafe", "run", "jump"]);
    assert.deepEqual(analyze("relational ponies caresses"), ["relat", "poni", "caress"]);
  });
});

describe("lexical search", () => {
  it("ranks the document with the rare query term first", async () => {
    const { s, c, ids } = await corpus();
    const hits = await s.lexicalSearch(c.id, "system data capacitor", 4);
    assert.equal(hits[0]!.chunkId, chunkOf(ids.rare!));
    assert.ok(hits.every((h, i) => i === 0 || hits[i - 1]!.score >= h.score), "best first");
  });

  it("never throws on hostile queries", async () => {
    const { s, c } = await corpus();
    const hostile = [
      '"', '""', "'", 'system" OR "', "NEAR(system data, 2)", "system*", "*", "text:system", "col:", "(((", ")",
      "AND OR NOT", "^system", "-system", "system + data", "\u0000\u0001", "💥 flux ✨", "ｆｕｌｌｗｉｄｔｈ", "x".repeat(10_000),
      Array.from({ length: 2000 }, (_, i) => `w${i}`).join(" "), "données système", "", "   ", "{system}", "system:*", "NOT",
    ];
    for (const q of hostile) await assert.doesNotReject(s.lexicalSearch(c.id, q, 5), `query ${JSON.stringify(q.slice(0, 40))}`);
    assert.equal((await s.lexicalSearch(c.id, 'NEAR("flux" capacitor)', 5)).length, 1);
  });

  it("applies metadata filters in SQL with a correct top k", async () => {
    const { s, c, ids } = await corpus();
    const only = async (f: Parameters<typeof s.lexicalSearch>[3], q = "system data tomatoes") => (await s.lexicalSearch(c.id, q, 10, f)).map((h) => h.chunkId).sort();
    assert.deepEqual(await only({ lang: "de" }), [chunkOf(ids.common2!)]);
    assert.deepEqual(await only({ lang: { in: ["fr", "de"] } }), [chunkOf(ids.common2!), chunkOf(ids.other!)].sort());
    assert.deepEqual(await only({ year: { gte: 2022 } }), [chunkOf(ids.rare!), chunkOf(ids.other!)].sort());
    assert.deepEqual(await only({ year: { gt: 2020, lt: 2023 } }), [chunkOf(ids.common2!), chunkOf(ids.rare!)].sort());
    assert.deepEqual(await only({ draft: true }), [chunkOf(ids.common2!)]);
    assert.deepEqual(await only({ lang: { in: [] } }), []);
    // k=1 under a filter returns the best of the filtered set, not a filtered top 1.
    const top = await s.lexicalSearch(c.id, "system data", 1, { lang: "en" });
    assert.equal(top.length, 1);
    await assert.rejects(s.lexicalSearch(c.id, "x", 5, { "bad field'); DROP TABLE x; --": 1 }), /invalid metadata field/);
  });
});
