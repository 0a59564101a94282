// The rank table read from gpt-tokenizer's .tiktoken file must be exactly the
// table the package generates as a JS module, and count the same tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readTiktokenRanks } from "./bpe-ranks.js";
import { countTokens } from "./tokenizer.js";

const require = createRequire(import.meta.url);

test("equals gpt-tokenizer's generated o200k_base table, entry for entry", () => {
  const ours = readTiktokenRanks(require.resolve("gpt-tokenizer/data/o200k_base.tiktoken"));
  const theirs = (require("gpt-tokenizer/cjs/bpeRanks/o200k_base") as { default: unknown[] }).default;
  assert.equal(ours.length, theirs.length);
  assert.ok(ours.some((t) => Array.isArray(t)), "the table has byte-sequence tokens");
  for (let i = 0; i < ours.length; i++) assert.deepEqual(ours[i], theirs[i], `rank ${i}`);
});

test("counts what gpt-tokenizer's own o200k_base counts", () => {
  const { countTokens: theirs } = require("gpt-tokenizer") as { countTokens: (t: string, o: object) => number };
  const texts = [
    "The quick brown fox jumps over the lazy dog.",
    "Ünïcödé, 日本語のテキスト, emoji 👩‍👩‍👧‍👦 and a BOM \uFEFF here.",
    "<|endoftext|> and <|im_start|> are text here",
    "    indented\n\n\tcode() { return x => x ** 2; }\r\n",
    "a".repeat(5000),
    "Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich. ∮ E⋅da = Q,  n → ∞",
  ];
  for (const t of texts) assert.equal(countTokens(t), theirs(t, { disallowedSpecial: new Set() }), t.slice(0, 40));
});

test("a malformed table fails with the offset, not a wrong table", () => {
  const dir = mkdtempSync(join(tmpdir(), "bpe-ranks-"));
  try {
    const f = join(dir, "bad.tiktoken");
    writeFileSync(f, "IQ== 0\nIg==\n");
    assert.throws(() => readTiktokenRanks(f), /malformed line at offset 7/);
    writeFileSync(f, "IQ== 1\nIg== 0\n");
    assert.throws(() => readTiktokenRanks(f), /bad rank at offset 7/);
    writeFileSync(f, "IQ== 0\nIw== 2\n");
    assert.deepEqual(readTiktokenRanks(f), ["!", "", "#"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
