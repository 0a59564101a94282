import { test, beforeEach, afterEach } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, mkdir, rm, writeFile, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../data/index.js";
import { SqliteRetrievalStore } from "../retrieval/index.js";
import type { Embedder, RetrievalStore } from "../retrieval/types.js";
import { Ingestor, ORIGIN_KEY } from "./ingestor.js";
import type { IngestReport } from "./types.js";
import { makePdf } from "./make-pdf.test-support.js";

let dir: string;
let store: RetrievalStore;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "stratum-ingest-"));
  store = new SqliteRetrievalStore(openDatabase(":memory:"));
});
afterEach(async () => {
  await store.close?.();
  await rm(dir, { recursive: true, force: true });
});

const statuses = (r: IngestReport) => Object.fromEntries(r.files.map((f) => [f.source, f.status]));

async function docs(collection = "kb") {
  const col = (await store.getCollection("t1", collection))!;
  return store.listDocuments(col.id);
}

test("folder: every format, unsupported and broken files reported, the rest ingested", async () => {
  const root = join(dir, "docs");
  await mkdir(join(root, "sub"), { recursive: true });
  await mkdir(join(root, "node_modules"), { recursive: true });
  await mkdir(join(root, ".git"), { recursive: true });
  await writeFile(join(root, "guide.md"), "---\ntitle: Guide\nteam: infra\n---\n# Install\n\nRun the relay.\n\n## Linux\n\nUse apt on port 4222.");
  await writeFile(join(root, "sub", "page.html"), "<title>Page</title><script>evil()</script><h1>Hi</h1><p>Body text.</p>");
  await writeFile(join(root, "sub", "notes.txt"), "Notes\n\nplain notes");
  await writeFile(join(root, "data.json"), JSON.stringify({ title: "Data", text: "json text", owner: "bob" }));
  await writeFile(join(root, "recs.jsonl"), '{"text":"one"}\n{bad\n{"text":"three"}\n');
  await writeFile(join(root, "manual.pdf"), makePdf([["PDF page text."]], "Manual"));
  await writeFile(join(root, "broken.pdf"), "%PDF-1.7\ngarbage");
  await writeFile(join(root, "empty.md"), "");
  await writeFile(join(root, "image.png"), "PNG");
  await writeFile(join(root, "node_modules", "x.md"), "# no");
  await writeFile(join(root, ".git", "y.md"), "# no");
  await writeFile(join(root, ".hidden.md"), "# no");
  await writeFile(join(dir, "outside.md"), "# outside");
  await symlink(join(dir, "outside.md"), join(root, "escape.md"));

  const progress: string[] = [];
  const ing = new Ingestor({ store });
  const r = await ing.ingestPath("t1", "kb", root, { metadata: { project: "p1" }, onProgress: (p) => progress.push(`${p.done}/${p.total}`) });
  assert.deepEqual(statuses(r), {
    "broken.pdf": "failed",
    "data.json": "added",
    "empty.md": "failed",
    "escape.md": "failed",
    "guide.md": "added",
    "image.png": "failed",
    "manual.pdf": "added",
    "recs.jsonl#L1": "added",
    "recs.jsonl#L2": "failed",
    "recs.jsonl#L3": "added",
    "sub/notes.txt": "added",
    "sub/page.html": "added",
  });
  assert.equal(r.added, 7);
  assert.equal(r.failed, 5);
  const errors = Object.fromEntries(r.files.filter((f) => f.error).map((f) => [f.source, f.error]));
  assert.match(errors["broken.pdf"]!, /not a readable PDF/);
  assert.match(errors["empty.md"]!, /empty/);
  assert.match(errors["escape.md"]!, /outside the folder/);
  assert.match(errors["image.png"]!, /unsupported/);
  assert.match(errors["recs.jsonl#L2"]!, /line 2: invalid JSON/);
  assert.deepEqual(progress, ["1/10", "2/10", "3/10", "4/10", "5/10", "6/10", "7/10", "8/10", "9/10", "10/10"]);

  const all = await docs();
  const guide = all.find((d) => d.source === "guide.md")!;
  assert.equal(guide.title, "Guide");
  assert.equal(guide.metadata.team, "infra");
  assert.equal(guide.metadata.project, "p1");
  assert.match(String(guide.metadata[ORIGIN_KEY]), /^dir:/);
  const chunks = await store.getChunks(Array.from({ length: guide.chunkCount }, (_, i) => `${guide.id}:${i}`));
  assert.deepEqual(chunks.map((c) => c.headings), [["Install"], ["Install", "Linux"]]);
  assert.ok(r.chunks >= 7);
  const page = all.find((d) => d.source === "sub/page.html")!;
  const pageChunks = await store.getChunks([`${page.id}:0`]);
  assert.ok(!pageChunks[0]!.text.includes("evil"));
  assert.equal(all.find((d) => d.source === "data.json")!.metadata.owner, "bob");
  // Searchable once stored.
  const hits = await store.lexicalSearch(guide.collectionId, "relay port", 3);
  assert.ok(hits.some((h) => h.chunkId.startsWith(guide.id)));
});

test("re-ingest is incremental: modified → updated, deleted → deleted, new → added, others unchanged", async () => {
  const root = join(dir, "kb");
  await mkdir(root);
  for (const n of ["a", "b", "c", "d"]) await writeFile(join(root, `${n}.md`), `# ${n}\n\nText of ${n}.`);
  await writeFile(join(root, "r.jsonl"), '{"id":"x","text":"ex"}\n{"id":"y","text":"why"}\n');
  // Documents from elsewhere in the same collection must survive.
  const other = join(dir, "other");
  await mkdir(other);
  await writeFile(join(other, "z.md"), "# z\n\nzed");
  const ing = new Ingestor({ store });
  await ing.ingestPath("t1", "kb", other);
  await ing.ingestContent("t1", "kb", { source: "upload-1.txt", content: "uploaded text" });
  const first = await ing.ingestPath("t1", "kb", root);
  assert.equal(first.added, 6);

  const idOfA = (await docs()).find((d) => d.source === "a.md")!.id;
  await writeFile(join(root, "b.md"), "# b\n\nChanged text of b.");
  await rm(join(root, "c.md"));
  await writeFile(join(root, "e.md"), "# e\n\nNew file.");
  await writeFile(join(root, "r.jsonl"), '{"id":"x","text":"ex"}\n{"id":"w","text":"double-u"}\n');
  const second = await ing.ingestPath("t1", "kb", root);
  assert.deepEqual(statuses(second), {
    "a.md": "unchanged",
    "b.md": "updated",
    "c.md": "deleted",
    "d.md": "unchanged",
    "e.md": "added",
    "r.jsonl#x": "updated",
    "r.jsonl#w": "added",
    "r.jsonl#y": "deleted",
  });
  assert.deepEqual([second.added, second.updated, second.unchanged, second.deleted, second.failed], [2, 2, 2, 2, 0]);
  const after = await docs();
  assert.deepEqual(after.map((d) => d.source).sort(), ["a.md", "b.md", "d.md", "e.md", "r.jsonl#w", "r.jsonl#x", "upload-1.txt", "z.md"]);
  assert.equal(after.find((d) => d.source === "a.md")!.id, idOfA, "unchanged file keeps its document");

  const third = await ing.ingestPath("t1", "kb", root);
  assert.equal(third.unchanged, 6);
  assert.equal(third.files.length, 6);
  assert.equal(third.chunks, 0);
});

test("a source owned by another origin is not replaced", async () => {
  const ing = new Ingestor({ store });
  await ing.ingestContent("t1", "kb", { source: "a.md", content: "# uploaded\n\nkeep me" });
  const root = join(dir, "r");
  await mkdir(root);
  await writeFile(join(root, "a.md"), "# from disk");
  const r = await ing.ingestPath("t1", "kb", root);
  assert.equal(r.files[0]!.status, "failed");
  assert.match(r.files[0]!.error!, /already exists .* another origin \(upload\)/);
  assert.equal((await docs())[0]!.title, "uploaded");
});

test("single file, uploads (replace, unchanged, bad encoding) and deleteDocument", async () => {
  const ing = new Ingestor({ store, maxBytes: 1000 });
  const file = join(dir, "one.txt");
  await writeFile(file, "Single file\n\nbody");
  assert.equal((await ing.ingestPath("t1", "kb", file)).files[0]!.source, "one.txt");
  assert.equal((await ing.ingestPath("t1", "kb", file)).unchanged, 1);

  const up = { source: "notes", content: "hello there", mime: "text/plain", metadata: { lang: "en" } };
  assert.equal((await ing.ingestContent("t1", "kb", up)).added, 1);
  assert.equal((await ing.ingestContent("t1", "kb", up)).unchanged, 1);
  const upd = await ing.ingestContent("t1", "kb", { ...up, content: "hello again" });
  assert.equal(upd.updated, 1);
  const bad = await ing.ingestContent("t1", "kb", { source: "bin.txt", content: Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0xc3]) .subarray(2) });
  assert.equal(bad.failed, 1);
  assert.match(bad.files[0]!.error!, /not valid UTF-8/);
  const big = await ing.ingestContent("t1", "kb", { source: "big.txt", content: "x".repeat(1001) });
  assert.match(big.files[0]!.error!, /exceeds the limit of 1000 bytes/);
  const note = (await docs()).find((d) => d.source === "notes")!;
  assert.equal(note.metadata.lang, "en");
  assert.equal(await ing.deleteDocument("t1", "kb", note.id), true);
  assert.equal(await ing.deleteDocument("t1", "kb", note.id), false);
  assert.equal(await ing.deleteDocument("t1", "nope", note.id), false);
  await assert.rejects(ing.ingestPath("t1", "kb", join(dir, "missing")), /no such file or folder/);
});

test("embeddings: batches of at most 64, vectors stored; a failing embedder fails only that file", async () => {
  const batches: number[] = [];
  const embedder: Embedder = {
    model: "emb-test",
    async embed(texts) {
      batches.push(texts.length);
      if (texts.some((t) => t.includes("POISON"))) throw new Error("upstream 500");
      return texts.map((t) => Float32Array.from([t.length, 1, 0]));
    },
  };
  const root = join(dir, "e");
  await mkdir(root);
  await writeFile(join(root, "long.txt"), Array.from({ length: 150 }, (_, i) => `Paragraph ${i} about relays.`).join("\n\n"));
  await writeFile(join(root, "poison.txt"), "POISON here");
  await writeFile(join(root, "short.txt"), "short one");
  const ing = new Ingestor({ store, embedder, chunking: { maxTokens: 8, overlapTokens: 0 } });
  const r = await ing.ingestPath("t1", "kb", root);
  assert.deepEqual(statuses(r), { "long.txt": "added", "poison.txt": "failed", "short.txt": "added" });
  assert.match(r.files[1]!.error!, /embedding failed: upstream 500/);
  assert.ok(batches.every((n) => n <= 64));
  assert.ok(batches.filter((n) => n === 64).length >= 2, `batches ${batches.join(",")}`);
  const col = (await store.getCollection("t1", "kb"))!;
  assert.equal(col.embeddingModel, "emb-test");
  assert.equal(col.dimensions, 3);
  const { rows } = await store.vectorsSince(col.id, 0);
  assert.equal(rows.length, r.chunks);
});

test("ingestUrl: fetched, parsed by content type, unchanged on refetch; blocked URLs are reported", async () => {
  const { createServer } = await import("node:http");
  let body = "<html><head><title>Remote</title></head><body><p>Remote text.</p></body></html>";
  const server = createServer((_req, res) => { res.setHeader("content-type", "text/html; charset=utf-8"); res.end(body); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/page`;
    const blockedRun = await new Ingestor({ store }).ingestUrl("t1", "kb", url);
    assert.equal(blockedRun.failed, 1);
    assert.match(blockedRun.files[0]!.error!, /refused.*loopback/);
    const ing = new Ingestor({ store, fetch: { allowPrivate: true } });
    const r = await ing.ingestUrl("t1", "kb", url, { metadata: { site: "local" } });
    assert.equal(r.added, 1, JSON.stringify(r.files));
    const d = (await docs())[0]!;
    assert.equal(d.title, "Remote");
    assert.equal(d.source, url);
    assert.equal(d.metadata.site, "local");
    assert.equal(d.metadata.url, url);
    assert.equal((await ing.ingestUrl("t1", "kb", url)).unchanged, 1);
    body = body.replace("Remote text", "Edited text");
    assert.equal((await ing.ingestUrl("t1", "kb", url)).updated, 1);
  } finally {
    server.close();
  }
});
