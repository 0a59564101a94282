import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EmbedBatcher } from "./embed-batcher.js";

const fake = () => {
  const calls: string[][] = [];
  const fn = async (texts: string[]) => { calls.push(texts); return texts.map((t) => Float32Array.of(t.length, Number(t.replace(/\D/g, "") || 0))); };
  return { calls, fn };
};

describe("EmbedBatcher", () => {
  it("batches concurrent calls into one upstream call and returns each caller its slice", async () => {
    const { calls, fn } = fake();
    const b = new EmbedBatcher("m", fn, { windowMs: 5 });
    const [a, c, d] = await Promise.all([b.embed(["t1", "t22"]), b.embed(["t333"]), b.embed(["t4", "t5", "t6"])]);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0], ["t1", "t22", "t333", "t4", "t5", "t6"]);
    assert.deepEqual(a!.map((v) => v[1]), [1, 22]);
    assert.deepEqual(c!.map((v) => v[1]), [333]);
    assert.deepEqual(d!.map((v) => v[1]), [4, 5, 6]);
  });

  it("caps batches at maxBatch texts", async () => {
    const { calls, fn } = fake();
    const b = new EmbedBatcher("m", fn, { windowMs: 5, maxBatch: 4 });
    const res = await Promise.all(Array.from({ length: 10 }, (_, i) => b.embed([`t${i}`])));
    assert.ok(calls.every((c) => c.length <= 4));
    assert.equal(calls.length, 3);
    assert.deepEqual(res.map((r) => r[0]![1]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const big = await b.embed(Array.from({ length: 9 }, (_, i) => `t${i}`));
    assert.deepEqual(big.map((v) => v[1]), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("rejects every caller of a failed batch", async () => {
    let n = 0;
    const b = new EmbedBatcher("m", async () => { n++; throw new Error("upstream down"); });
    const results = await Promise.allSettled([b.embed(["a"]), b.embed(["b"])]);
    assert.equal(n, 1);
    assert.ok(results.every((r) => r.status === "rejected" && /upstream down/.test(String(r.reason))));
  });
});
