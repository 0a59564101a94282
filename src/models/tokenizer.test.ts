// The tokenizer's rank table is loaded on demand and can be dropped; counting
// after a release reloads it and gives the same answers. (That the heap
// shrinks is measured by the memory bench under plain node: under tsx's
// loader the released modules stay referenced.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { countTokens, releaseTokenizer, tokenizerLoaded } from "./tokenizer.js";

test("released, then counted again: reloaded, same counts", () => {
  const text = "The quick brown fox jumps over the lazy dog. <|endoftext|> stays text.";
  const n = countTokens(text);
  assert.ok(n > 10);
  assert.ok(tokenizerLoaded());
  releaseTokenizer();
  assert.equal(tokenizerLoaded(), false);
  releaseTokenizer(); // idempotent
  assert.equal(countTokens(text), n);
  assert.ok(tokenizerLoaded());
});
