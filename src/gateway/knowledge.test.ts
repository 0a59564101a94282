// Collections, ingestion, search, sessions and memory over real HTTP: every
// format through the documents API, per-file errors, deletes, metadata
// filters, hybrid search with a real embedding route, and tenant isolation.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { makePdf } from "../ingest/make-pdf.test-support.js";
import { postJson, startTestServer, type TestServer } from "../testing/harness.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

async function call(srv: TestServer, method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const RELAY_MD = `---
title: The relay
team: platform
---
# The relay

The relay forwards events from producers to subscribers over WebSockets.

## Configuration

The relay listens on port 7443 by default. Set RELAY_PORT to change the port.
`;

describe("knowledge API", () => {
  let srv: TestServer;
  let keyA: string;
  let keyB: string;
  before(async () => {
    srv = await startTestServer({ retrieval: { embeddingModel: "sim" }, providers: { sim: { type: "sim", embeddingDimensions: 256 } } });
    keyA = await srv.createKey({ tenant: "acme" });
    keyB = await srv.createKey({ tenant: "globex" });
  });
  after(() => srv.close());

  test("every format ingests through the documents API and is searchable with citations", async () => {
    const docs: Array<[string, Json]> = [
      ["relay.md", { source: "relay.md", content: RELAY_MD }],
      ["billing.html", { source: "billing.html", content: "<html><head><title>Billing</title><script>var invoiceSecret = 1;</script></head><body><h1>Billing</h1><p>Invoices are issued on the first business day of each month.</p></body></html>" }],
      ["notes.txt", { source: "notes.txt", content: "Office hours\n\nThe support desk answers tickets between 9:00 and 17:00 CET." }],
      ["faq.json", { source: "faq.json", content: JSON.stringify({ title: "FAQ", text: "Refunds are processed within fourteen days of the request." }) }],
      ["events.jsonl", { source: "events.jsonl", content: `{"text":"The quarterly offsite happens in Lisbon."}\n{"text":"The hackathon takes place in October."}\n` }],
      ["manual.pdf", { source: "manual.pdf", content_base64: makePdf([["Safety manual", "", "Wear goggles when soldering the amplifier board."]], "Safety manual").toString("base64") }],
    ];
    for (const [name, body] of docs) {
      const r = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { ...body, metadata: { kind: name.split(".")[1]! } });
      assert.ok(r.status === 201 || r.status === 200, `${name}: ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(r.json.failed, 0, name);
      assert.ok(r.json.chunks >= 1, `${name} produced chunks`);
    }
    const list = await call(srv, "GET", "/v1/collections/kb/documents", keyA);
    assert.equal(list.status, 200);
    assert.ok(list.json.data.length >= 6);

    const cases: Array<[string, RegExp]> = [
      ["which port does the relay listen on", /7443/],
      ["when are invoices issued", /first business day/],
      ["support desk hours", /9:00 and 17:00/],
      ["how long do refunds take", /fourteen days/],
      ["where is the quarterly offsite", /Lisbon/],
      ["goggles soldering amplifier", /goggles/],
    ];
    for (const [query, expect] of cases) {
      const r = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query, k: 3 });
      assert.equal(r.status, 200);
      const top = r.json.data[0];
      assert.match(top.text, expect, `top hit for "${query}"`);
      assert.ok(top.citation.source && top.citation.document_id && top.citation.end > top.citation.start, "citation fields");
      assert.ok(r.json.confidence > 0 && r.json.confidence <= 1);
    }
    // The html script body is not indexed.
    const script = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "invoiceSecret", k: 3, mode: "lexical" });
    assert.equal(script.json.data.length, 0);
    // Heading trail kept for the markdown chunk.
    const port = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "RELAY_PORT", k: 1 });
    assert.deepEqual(port.json.data[0].headings.slice(-1), ["Configuration"]);
  });

  test("metadata filters restrict search results", async () => {
    const r = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "relay port invoices refunds", k: 10, filter: { kind: "md" } });
    assert.equal(r.status, 200);
    assert.ok(r.json.data.length >= 1);
    for (const h of r.json.data) assert.equal(h.metadata.kind, "md");
    const team = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "relay", k: 5, filter: { team: { in: ["platform"] } } });
    assert.ok(team.json.data.length >= 1, "front matter metadata is filterable");
  });

  test("hybrid search fuses lexical and dense rankings", async () => {
    const lexical = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "subscribers WebSockets", k: 5, mode: "lexical" });
    const dense = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "subscribers WebSockets", k: 5, mode: "dense" });
    const hybrid = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "subscribers WebSockets", k: 5, mode: "hybrid" });
    assert.equal(lexical.json.mode, "lexical");
    assert.equal(dense.json.mode, "dense");
    assert.equal(hybrid.json.mode, "hybrid");
    assert.ok(dense.json.data.length >= 1 && dense.json.data[0].dense_score !== null, "dense hits carry a cosine score");
    assert.match(hybrid.json.data[0].text, /WebSockets/);
    assert.ok(hybrid.json.data[0].lexical_score !== null && hybrid.json.data[0].dense_score !== null, "the top hybrid hit was found by both");
  });

  test("bad files get a clear per-file error and nothing else changes", async () => {
    const before = (await call(srv, "GET", "/v1/collections/kb/documents", keyA)).json.data.length;
    const corrupt = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { source: "broken.pdf", content_base64: Buffer.from("%PDF-1.4\n garbage").toString("base64") });
    assert.equal(corrupt.status, 400);
    assert.match(corrupt.json.error.message, /broken\.pdf/);
    const unsupported = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { source: "tool.exe", content_base64: Buffer.from([0x4d, 0x5a, 0, 1, 2]).toString("base64") });
    assert.equal(unsupported.status, 400);
    const empty = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { source: "empty.md", content: "   \n\n " });
    assert.equal(empty.status, 400);
    assert.match(empty.json.error.message, /empty/i);
    const both = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { source: "x.md", content: "a", url: "http://example.com" });
    assert.equal(both.status, 400);
    const ssrf = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { url: "http://127.0.0.1:1/secret" });
    assert.equal(ssrf.status, 400);
    assert.match(ssrf.json.error.message, /private|loopback|not allowed|refus/i);
    const badName = await call(srv, "POST", "/v1/collections/..%2Fx/documents", keyA, { source: "a.md", content: "hello" });
    assert.equal(badName.status, 400);
    assert.equal((await call(srv, "GET", "/v1/collections/kb/documents", keyA)).json.data.length, before);
  });

  test("re-adding the same content is unchanged; changed content replaces; delete removes chunks", async () => {
    const again = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { source: "notes.txt", content: "Office hours\n\nThe support desk answers tickets between 9:00 and 17:00 CET." });
    assert.equal(again.status, 200);
    assert.equal(again.json.unchanged, 1);
    const changed = await call(srv, "POST", "/v1/collections/kb/documents", keyA, { source: "notes.txt", content: "Office hours\n\nThe support desk now answers tickets around the clock." });
    assert.equal(changed.json.updated, 1);
    const old = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "17:00 CET", k: 5, mode: "lexical" });
    assert.ok(!old.json.data.some((h: Json) => /17:00/.test(h.text)), "old chunks are gone");
    const docs = (await call(srv, "GET", "/v1/collections/kb/documents", keyA)).json.data as Json[];
    const notes = docs.find((d) => d.source === "notes.txt");
    const del = await call(srv, "DELETE", `/v1/collections/kb/documents/${encodeURIComponent(notes.id)}`, keyA);
    assert.equal(del.status, 200);
    const gone = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "around the clock", k: 5, mode: "lexical" });
    assert.equal(gone.json.data.length, 0);
    assert.equal((await call(srv, "DELETE", `/v1/collections/kb/documents/${encodeURIComponent(notes.id)}`, keyA)).status, 404);
  });

  test("a tenant never reaches another tenant's collection or chunks", async () => {
    assert.equal((await call(srv, "POST", "/v1/collections/kb/search", keyB, { query: "relay port", k: 5 })).status, 404);
    assert.equal((await call(srv, "GET", "/v1/collections/kb/documents", keyB)).status, 404);
    const listB = await call(srv, "GET", "/v1/collections", keyB);
    assert.deepEqual(listB.json.data, []);
    // Tenant B makes its own "kb": it sees only its own document.
    await call(srv, "POST", "/v1/collections/kb/documents", keyB, { source: "b.md", content: "# Globex\n\nGlobex ships rockets." });
    const r = await call(srv, "POST", "/v1/collections/kb/search", keyB, { query: "relay port 7443 rockets", k: 10 });
    assert.ok(r.json.data.length >= 1);
    for (const h of r.json.data) assert.equal(h.citation.source, "b.md");
    // And tenant A's search is unaffected by B's document.
    const a = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "rockets", k: 5, mode: "lexical" });
    assert.equal(a.json.data.length, 0);
  });

  test("hostile search input is refused or handled, never a 500", async () => {
    for (const query of ['"unbalanced', "NEAR(a b)", "a* OR -b AND (c:d)", "☃️ 💥 \u0000", "x".repeat(9_999)]) {
      const r = await call(srv, "POST", "/v1/collections/kb/search", keyA, { query, k: 5 });
      assert.equal(r.status, 200, `query ${JSON.stringify(query.slice(0, 20))}: ${JSON.stringify(r.json)}`);
    }
    assert.equal((await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "" })).status, 400);
    assert.equal((await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "a", k: 0 })).status, 400);
    assert.equal((await call(srv, "POST", "/v1/collections/kb/search", keyA, { query: "a", filter: { "bad field!": 1 } })).status, 400);
    const unauth = await postJson(`${srv.url}/v1/collections/kb/search`, { query: "relay" });
    assert.equal(unauth.status, 401);
  });

  test("memory facts: add, list, search, delete — per tenant and user", async () => {
    const add = await call(srv, "POST", "/v1/memory", keyA, { user: "u1", text: "Prefers answers in French.", tags: ["lang"] });
    assert.equal(add.status, 201);
    assert.ok(add.json.id);
    assert.equal((await call(srv, "GET", "/v1/memory?user=u1", keyA)).json.data.length, 1);
    assert.equal((await call(srv, "GET", "/v1/memory?user=u1", keyB)).json.data.length, 0, "other tenant sees nothing");
    const found = await call(srv, "GET", "/v1/memory?user=u1&query=french", keyA);
    assert.equal(found.json.data[0].fact.text, "Prefers answers in French.");
    assert.equal((await call(srv, "DELETE", `/v1/memory/${add.json.id}?user=u1`, keyB)).status, 404);
    assert.equal((await call(srv, "DELETE", `/v1/memory/${add.json.id}?user=u1`, keyA)).status, 200);
    assert.equal((await call(srv, "POST", "/v1/memory", keyA, { user: "u1" })).status, 400);
  });
});
