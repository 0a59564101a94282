import { test } from "node:test";
import assert from "node:assert/strict";
import { countTokens } from "../models/index.js";
import { chunkDocument } from "./chunk-document.js";
import { parseMarkdown } from "./parsers/markdown.js";
import { parsePlainText } from "./parsers/plain-text.js";

const WORDS = "relay port cluster shard index vector query latency budget token alpha beta gamma delta".split(" ");
function sentences(n: number, seed = 7): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const len = 5 + ((seed + i * 13) % 11);
    const w: string[] = [];
    for (let j = 0; j < len; j++) w.push(WORDS[(seed * 31 + i * 7 + j * 3) % WORDS.length]!);
    out.push(`S${i} ${w.join(" ")}.`);
  }
  return out.join(" ");
}

test("heading trails, a heading starts a chunk, consecutive blocks packed", () => {
  const md = "# Install\n\nIntro text.\n\n## Linux\n\nUse apt.\n\nThen run it.\n\n### Debian\n\nDebian notes.\n\n## Mac\n\nUse brew.";
  const doc = parseMarkdown(md, "x.md");
  const chunks = chunkDocument(doc);
  assert.deepEqual(
    chunks.map((c) => [c.headings, c.text]),
    [
      [["Install"], "Install\n\nIntro text."],
      [["Install", "Linux"], "Linux\n\nUse apt.\n\nThen run it."],
      [["Install", "Linux", "Debian"], "Debian\n\nDebian notes."],
      [["Install", "Mac"], "Mac\n\nUse brew."],
    ],
  );
  chunks.forEach((c, i) => {
    assert.equal(c.ordinal, i);
    assert.equal(doc.text.slice(c.start, c.end), c.text);
    assert.equal(c.tokens, countTokens(c.text));
  });
});

test("consecutive headings stay with the text that follows them", () => {
  const doc = parseMarkdown("# A\n\n## B\n\nBody under B.", "x.md");
  const chunks = chunkDocument(doc);
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0]!.headings, ["A", "B"]);
  assert.equal(chunks[0]!.text, "A\n\nB\n\nBody under B.");
});

test("budget holds with the real tokenizer; oversized blocks split on sentences; offsets exact", () => {
  const paras = Array.from({ length: 30 }, (_, i) => sentences(3 + (i % 9), i));
  paras.splice(10, 0, sentences(120, 99)); // one paragraph far over the budget
  const doc = parsePlainText(paras.join("\n\n"), "t.txt");
  for (const maxTokens of [64, 150, 400]) {
    const chunks = chunkDocument(doc, { maxTokens, overlapTokens: 20 });
    assert.ok(chunks.length > 1);
    for (const c of chunks) {
      const real = countTokens(c.text);
      assert.ok(real <= maxTokens, `chunk ${c.ordinal} has ${real} tokens > ${maxTokens}`);
      assert.equal(c.tokens, real);
      assert.equal(doc.text.slice(c.start, c.end), c.text);
      // Never starts or ends mid-word.
      assert.ok(c.start === 0 || /\s/.test(doc.text[c.start - 1]!), `chunk ${c.ordinal} starts mid-word`);
      assert.ok(c.end === doc.text.length || /\s/.test(doc.text[c.end]!), `chunk ${c.ordinal} ends mid-word`);
    }
    // Every character of content is covered by some chunk.
    let covered = 0;
    for (const c of chunks) {
      assert.ok(c.start <= covered + 2, `gap before chunk ${c.ordinal}`);
      covered = Math.max(covered, c.end);
    }
    assert.equal(covered, doc.text.length);
  }
});

test("small blocks are never split", () => {
  const paras = Array.from({ length: 40 }, (_, i) => sentences(2 + (i % 4), i));
  const doc = parsePlainText(paras.join("\n\n"), "t.txt");
  const chunks = chunkDocument(doc, { maxTokens: 120, overlapTokens: 0 });
  for (const b of doc.blocks) {
    assert.ok(chunks.some((c) => c.start <= b.start && c.end >= b.end), `block at ${b.start} split across chunks`);
  }
  // With no overlap, chunks partition the text.
  for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]!.start > chunks[i - 1]!.end);
});

test("overlap: the next chunk in a section starts with the previous chunk's tail sentences", () => {
  const doc = parsePlainText(sentences(200, 3), "t.txt");
  const chunks = chunkDocument(doc, { maxTokens: 100, overlapTokens: 30 });
  assert.ok(chunks.length >= 5);
  let overlapped = 0;
  for (let i = 1; i < chunks.length; i++) {
    const prev = chunks[i - 1]!;
    const cur = chunks[i]!;
    if (cur.start < prev.end) {
      overlapped++;
      const shared = doc.text.slice(cur.start, prev.end);
      assert.ok(prev.text.endsWith(shared));
      assert.match(shared, /^S\d+ /, "overlap starts at a sentence");
      assert.ok(countTokens(shared) <= 30 + 2, `overlap of ${countTokens(shared)} tokens`);
    }
  }
  assert.ok(overlapped >= chunks.length - 2, `only ${overlapped} of ${chunks.length - 1} chunks overlap`);
  // No overlap across a heading.
  const md = parseMarkdown(`# A\n\n${sentences(40, 1)}\n\n# B\n\n${sentences(40, 2)}`, "m.md");
  const mc = chunkDocument(md, { maxTokens: 100, overlapTokens: 30 });
  const firstB = mc.findIndex((c) => c.headings[0] === "B");
  assert.ok(firstB > 0);
  assert.ok(mc[firstB]!.start > mc[firstB - 1]!.end);
  assert.ok(mc[firstB]!.text.startsWith("B\n\n"));
});

test("a run without whitespace is cut into windows that fit", () => {
  const blob = Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + ((i * 7) % 26))).join("");
  const doc = parsePlainText(`Before.\n\n${blob}\n\nAfter.`, "b.txt");
  const chunks = chunkDocument(doc, { maxTokens: 100 });
  for (const c of chunks) assert.ok(countTokens(c.text) <= 100, `${countTokens(c.text)} tokens`);
  assert.equal(chunks.filter((c) => c.text.includes("Before")).length, 1);
  assert.equal(chunks.map((c) => c.text.replace(/\s/g, "")).join("").replace("Before.", "").replace("After.", ""), blob);
});
