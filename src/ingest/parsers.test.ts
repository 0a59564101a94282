import { test } from "node:test";
import assert from "node:assert/strict";
import { parseContent, type ParsedItem } from "./parse-content.js";
import { IngestError } from "./errors.js";
import type { ParsedDocument } from "./types.js";
import { makePdf } from "./make-pdf.test-support.js";

const parse = (name: string, content: string | Uint8Array, opts: { mime?: string; maxBytes?: number } = {}) =>
  parseContent(typeof content === "string" ? Buffer.from(content) : content, { name, ...opts });

async function one(name: string, content: string | Uint8Array, opts: { mime?: string } = {}): Promise<ParsedDocument> {
  const items = await parse(name, content, opts);
  assert.equal(items.length, 1);
  const doc = items[0]!.doc!;
  // Every block is exactly its slice of the text.
  for (const b of doc.blocks) assert.equal(doc.text.slice(b.start, b.end), b.text);
  return doc;
}

async function rejects(p: Promise<unknown>, code: string, re?: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IngestError, `expected IngestError, got ${String(e)}`);
    assert.equal(e.reason, code);
    if (re) assert.match(e.message, re);
    return true;
  });
}

test("markdown: front matter, ATX/setext headings, code, list, table", async () => {
  const md = [
    "---", "title: Relay Guide", "tags: [ops, net]", "version: 3", "draft: false", "---",
    "# Ignored H1", "", "Intro paragraph", "continues here.", "",
    "Setext Two", "----------", "",
    "```sh", "npm start", "# not a heading", "```", "",
    "- one", "- two", "  continued", "", "- three", "",
    "| a | b |", "|---|:-:|", "| 1 | 2 |", "",
    "### Deep ###", "Last.",
  ].join("\n");
  const doc = await one("guide.md", md);
  assert.equal(doc.title, "Relay Guide");
  assert.deepEqual(doc.metadata, { title: "Relay Guide", tags: "ops, net", version: 3, draft: false });
  assert.deepEqual(
    doc.blocks.map((b) => [b.kind, b.level ?? null, b.text]),
    [
      ["heading", 1, "Ignored H1"],
      ["paragraph", null, "Intro paragraph\ncontinues here."],
      ["heading", 2, "Setext Two"],
      ["code", null, "npm start\n# not a heading"],
      ["list", null, "- one\n- two\n  continued\n\n- three"],
      ["table", null, "| a | b |\n| 1 | 2 |"],
      ["heading", 3, "Deep"],
      ["paragraph", null, "Last."],
    ],
  );
});

test("markdown: title falls back to the first H1, then the file name", async () => {
  assert.equal((await one("x.md", "text\n\n# Main\n\nbody")).title, "Main");
  assert.equal((await one("dir/notes.markdown", "just text")).title, "notes");
});

test("plain text: paragraphs on blank lines, short first line is the title", async () => {
  const doc = await one("a.txt", "Release notes\nline two\n\n\nSecond paragraph.\r\n\r\nThird.");
  assert.equal(doc.title, "Release notes");
  assert.deepEqual(doc.blocks.map((b) => b.text), ["Release notes\nline two", "Second paragraph.", "Third."]);
  assert.equal((await one("long.txt", "x".repeat(150))).title, "long");
});

test("html: script/style/nav/footer dropped, headings, entities, table rows", async () => {
  const html = `<!doctype html><html><head><title>My &amp; Page</title><style>p{color:red}</style><script>var secret = "SCRIPT";</script></head>
  <body><nav><a href="/">Home NAVLINK</a></nav>
  <h1>Main &lt;Title&gt;</h1><p>First   para
   with <b>bold</b>&nbsp;text.</p><noscript>NOSCRIPT</noscript>
  <ul><li>item one</li><li>item two</li></ul>
  <pre>  code
    indented</pre>
  <table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>
  <svg><title>icon</title><text>SVGTEXT</text></svg>
  <blockquote>Quoted</blockquote><footer>FOOTER</footer><script>alert("x")</script></body></html>`;
  const doc = await one("page.html", html);
  assert.equal(doc.title, "My & Page");
  for (const bad of ["SCRIPT", "NAVLINK", "NOSCRIPT", "FOOTER", "SVGTEXT", "color:red", "alert"]) assert.ok(!doc.text.includes(bad), bad);
  assert.deepEqual(
    doc.blocks.map((b) => [b.kind, b.text]),
    [
      ["heading", "Main <Title>"],
      ["paragraph", "First para with bold\u00a0text."],
      ["list", "- item one"],
      ["list", "- item two"],
      ["code", "code\n    indented"],
      ["table", "k | v"],
      ["table", "a | 1"],
      ["paragraph", "Quoted"],
    ],
  );
  assert.equal(doc.blocks[0]!.level, 1);
});

test("json: array elements are blocks; text fields used; nested values flattened", async () => {
  const doc = await one("data.json", JSON.stringify([{ text: "Alpha body", id: 1 }, { name: "n", nested: { k: "v", list: [1, true] } }, "plain"]));
  assert.deepEqual(doc.blocks.map((b) => b.text), ["Alpha body", "name: n\nnested.k: v\nnested.list[0]: 1\nnested.list[1]: true", "plain"]);
  const rec = await one("rec.json", JSON.stringify({ title: "T", body: "The body.", author: "ann", year: 2024, deep: { x: 1 } }));
  assert.equal(rec.title, "T");
  assert.equal(rec.text, "The body.");
  assert.deepEqual(rec.metadata, { title: "T", author: "ann", year: 2024 });
  await rejects(parse("bad.json", "{nope"), "corrupt_file", /bad\.json: invalid JSON/);
});

test("jsonl: one document per line, a bad line is its own error", async () => {
  const items: ParsedItem[] = await parse("recs.jsonl", ['{"text":"first record","lang":"en"}', "{broken", "", '{"content":"third","n":3}'].join("\n"));
  assert.deepEqual(items.map((i) => [i.key, !!i.doc, i.error?.reason ?? null]), [["#L1", true, null], ["#L2", false, "corrupt_file"], ["#L4", true, null]]);
  assert.equal(items[0]!.doc!.text, "first record");
  assert.deepEqual(items[0]!.doc!.metadata, { lang: "en" });
  assert.match(items[1]!.error!.message, /recs\.jsonl line 2: invalid JSON/);
  const withIds = await parse("ids.ndjson", '{"id":"a","text":"x"}\n{"id":"b","text":"y"}\n');
  assert.deepEqual(withIds.map((i) => i.key), ["#a", "#b"]);
});

test("pdf: pages become blocks, info title and page count", async () => {
  const pdf = makePdf([["The relay listens on port 4222."], ["Page two mentions shards."]], "Relay Manual");
  const doc = await one("manual.pdf", pdf);
  assert.equal(doc.title, "Relay Manual");
  assert.equal(doc.metadata.pages, 2);
  assert.deepEqual(doc.blocks.map((b) => b.text), ["The relay listens on port 4222.", "Page two mentions shards."]);
  // Sniffed even without an extension.
  assert.equal((await one("download", pdf)).mime, "application/pdf");
  assert.equal((await one("untitled.pdf", makePdf([["Only text."]]))).title, "untitled");
});

test("pdf: corrupt or truncated files fail clearly", async () => {
  const pdf = makePdf([["Some text here."]]);
  await rejects(parse("cut.pdf", pdf.subarray(0, 120)), "corrupt_file", /cut\.pdf: not a readable PDF/);
  await rejects(parse("junk.pdf", Buffer.from("%PDF-1.4\n garbage \x00\x01 bytes")), "corrupt_file", /junk\.pdf/);
  await rejects(parse("blank.pdf", makePdf([[]])), "empty_text", /blank\.pdf: no text/);
});

test("errors: empty, binary, unsupported, too large", async () => {
  await rejects(parse("empty.md", ""), "empty_text", /empty\.md: the file is empty/);
  await rejects(parse("ws.txt", "  \n\n \n"), "empty_text", /no text could be extracted/);
  const garbage = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 97 + 13) % 256));
  await rejects(parse("bin.txt", garbage), "bad_encoding", /bin\.txt: not valid UTF-8/);
  await rejects(parse("nul.txt", Buffer.from("abc\0def")), "bad_encoding", /NUL/);
  await rejects(parse("img.png", "xx"), "unsupported_type", /img\.png: this file type is not supported/);
  await rejects(parse("thing", "xx", { mime: "image/png" }), "unsupported_type", /content type "image\/png"/);
  await rejects(parse("big.txt", "x".repeat(101), { maxBytes: 100 }), "too_large", /101 bytes exceeds the limit of 100/);
});

test("encodings: UTF-8 BOM and UTF-16 with BOM are decoded", async () => {
  assert.equal((await one("bom.txt", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from("héllo")]))).text, "héllo");
  assert.equal((await one("le.txt", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("wörld", "utf16le")]))).text, "wörld");
  const be = Buffer.from("ünï", "utf16le").swap16();
  assert.equal((await one("be.txt", Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).text, "ünï");
});

test("type detection falls back to the content type", async () => {
  assert.equal((await one("page", "<p>hi</p>", { mime: "text/html; charset=utf-8" })).mime, "text/html");
  assert.equal((await one("readme", "# T\n\nx", { mime: "text/markdown" })).title, "T");
});

test("markdown: a leading rule that is not YAML front matter stays text", async () => {
  const doc = await one("r.md", "---\nJust a paragraph: with: colons: everywhere\n---\nAfter.");
  assert.deepEqual(doc.metadata, {});
  assert.ok(doc.text.includes("Just a paragraph"), doc.text);
});
