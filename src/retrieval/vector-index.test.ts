import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { blendConfidence, denseConfidence, lexicalConfidence } from "./confidence.js";
import { rankOf } from "./test-support.js";
import { VectorIndex } from "./vector-index.js";

const unit = (dims: number, i: number): Float32Array => {
  const v = new Float32Array(dims);
  v[i % dims] = 1;
  v[(i * 7 + 3) % dims]! += 0.5;
  return v;
};

describe("VectorIndex", () => {
  it("grows past its initial capacity, replaces and deletes by chunk id", () => {
    const dims = 32;
    const idx = new VectorIndex(dims);
    const rows = Array.from({ length: 1500 }, (_, i) => ({ rowId: i + 1, chunkId: `c${i}`, vector: unit(dims, i) }));
    idx.apply({ rows, deletedChunkIds: [], nextRowId: 1500 });
    assert.equal(idx.size, 1500);
    assert.equal(idx.cursor, 1500);
    const hit = idx.search(unit(dims, 5), 3);
    assert.equal(hit[0]!.score > 0.99, true);
    assert.ok(rankOf(hit, "c5") >= 0);
    // Replace c5 with a different vector (delete, then the new row), delete c6.
    idx.apply({ rows: [{ rowId: 1501, chunkId: "c5", vector: unit(dims, 9) }], deletedChunkIds: ["c5", "c6"], nextRowId: 1502 });
    assert.equal(idx.size, 1499);
    assert.equal(idx.cursor, 1502);
    assert.ok(idx.search(unit(dims, 6), 50).every((h) => h.chunkId !== "c6"));
    const v5 = idx.vector("c5")!;
    assert.ok(Math.abs(v5[9 % dims]! - 1 / Math.hypot(1, 0.5)) < 1e-5, "vector stored normalised, replaced");
    assert.deepEqual(idx.search(new Float32Array(3), 5), [], "wrong dimensions → nothing");
  });
});

describe("confidence", () => {
  it("weights present terms by IDF: a missing rare term dominates", () => {
    const terms = [{ term: "common", df: 900 }, { term: "rare", df: 0 }];
    assert.ok(lexicalConfidence(1000, terms, new Set(["common"])) < 0.1);
    assert.equal(lexicalConfidence(1000, terms, new Set(["common", "rare"])), 1);
    assert.equal(lexicalConfidence(1000, [], new Set()), 0);
    assert.equal(denseConfidence(0.1), 0);
    assert.equal(denseConfidence(0.95), 1);
    assert.ok(Math.abs(blendConfidence(1, 0.5) - 0.8) < 1e-12);
    assert.equal(blendConfidence(undefined, undefined), 0);
  });
});
