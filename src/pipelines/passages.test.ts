// Citations: the passages an answer cites, in order of first mention, with
// their scores kept readable however small (BM25 gives ~1e-6 to a term that
// is in nearly every chunk).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SearchHit } from "../retrieval/types.js";
import { citationsFor } from "./passages.js";

function hit(id: string, score: number): SearchHit {
  return {
    chunk: { id: `${id}:0`, documentId: id, collectionId: "c", ordinal: 0, text: `text of ${id}`, headings: [], start: 0, end: 10, tokens: 3 } as unknown as SearchHit["chunk"],
    document: { id, source: `${id}.md`, title: id, metadata: {} },
    score,
  };
}

test("cited passages only, each once; scores to four significant digits, tiny ones not shown as 0", () => {
  const hits = [hit("a", 5.137249), hit("b", 0.0000012345), hit("c", 0.0164)];
  const cites = citationsFor("Stratum is a gateway [2]. It routes [1] and retries [2].", hits);
  assert.deepEqual(cites.map((c) => [c.index, c.document_id, c.score]), [[2, "b", 0.000001234], [1, "a", 5.137]]);
  assert.ok(cites.every((c) => c.score > 0));
  assert.deepEqual(citationsFor("No markers here, or out of range [7].", hits), []);
});
