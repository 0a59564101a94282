import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { ToolRegistry } from "../registry.js";
import { documentSearchTool } from "./document-search.js";
import { domainAllowed, httpGetTool } from "./http-get.js";
import { webhookTool } from "./webhook.js";

const ctx = () => ({ signal: new AbortController().signal, tenant: "acme" });
// docs.example.com etc. "resolve" to the local test server.
const toLocal = async () => [{ address: "127.0.0.1", family: 4 as const }];

let server: Server;
let port = 0;
const seen: Array<{ method: string; url: string; headers: Record<string, unknown>; body: string }> = [];

before(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      if (req.url === "/page") {
        res.setHeader("content-type", "text/plain");
        res.end("hello from docs");
      } else if (req.url === "/big") {
        // Chunked on purpose: ingest's fetchUrl rejects a too-large declared
        // Content-Length but its res.body.destroy() then raises an uncaught
        // "Request aborted" (bug reported against src/ingest/fetch-url.ts).
        res.write("x".repeat(2500));
        res.end("y".repeat(2500));
      } else if (req.url === "/redirect-out") {
        res.statusCode = 302;
        res.setHeader("location", `http://evil.test:${port}/page`);
        res.end();
      } else if (req.url === "/redirect-in") {
        res.statusCode = 302;
        res.setHeader("location", `http://api.example.com:${port}/page`);
        res.end();
      } else if (req.url === "/hook") {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ received: JSON.parse(body || "null") }));
      } else if (req.url === "/hook-fail") {
        res.statusCode = 500;
        res.end("nope");
      } else if (req.url === "/hook-slow") {
        setTimeout(() => res.end("late"), 500);
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
after(() => new Promise<void>((r) => server.close(() => r())));

describe("domainAllowed", () => {
  it("matches exact names and *.suffix subdomains only", () => {
    assert.equal(domainAllowed("docs.example.com", ["docs.example.com"]), true);
    assert.equal(domainAllowed("DOCS.example.com.", ["docs.example.com"]), true);
    assert.equal(domainAllowed("example.com", ["*.example.com"]), false);
    assert.equal(domainAllowed("a.b.example.com", ["*.example.com"]), true);
    assert.equal(domainAllowed("badexample.com", ["*.example.com"]), false);
    assert.equal(domainAllowed("example.com.evil.test", ["example.com"]), false);
  });
});

describe("httpGetTool", () => {
  it("refuses domains off the allowlist without connecting", async () => {
    const reg = new ToolRegistry([httpGetTool({ allowDomains: ["docs.example.com"], guard: { resolver: toLocal, allowAddresses: ["127.0.0.1"] } })]);
    const before = seen.length;
    const res = await reg.execute({ id: "1", name: "http_get", arguments: { url: `http://other.example.com:${port}/page` } }, ctx());
    assert.equal(res.ok, false);
    assert.match(res.content, /not an allowed domain/);
    assert.equal(seen.length, before);
  });

  it("refuses an allowed domain that resolves to a loopback address", async () => {
    const reg = new ToolRegistry([httpGetTool({ allowDomains: ["docs.example.com"], guard: { resolver: toLocal } })]);
    const res = await reg.execute({ id: "1", name: "http_get", arguments: { url: `http://docs.example.com:${port}/page` } }, ctx());
    assert.equal(res.ok, false);
    assert.match(res.content, /refused.*127\.0\.0\.1.*loopback/);
  });

  it("refuses private, loopback and link-local IP literals", async () => {
    const reg = new ToolRegistry([httpGetTool({ allowDomains: ["*.example.com", "169.254.169.254", "127.0.0.1", "10.0.0.1"] })]);
    for (const host of ["169.254.169.254", "127.0.0.1", "10.0.0.1"]) {
      const res = await reg.execute({ id: "1", name: "http_get", arguments: { url: `http://${host}/latest/meta-data` } }, ctx());
      assert.equal(res.ok, false, host);
      assert.match(res.content, /refused/, host);
    }
  });

  it("fetches text from an allowed domain (explicitly allowed test address) with GET", async () => {
    const reg = new ToolRegistry([httpGetTool({ allowDomains: ["*.example.com"], guard: { resolver: toLocal, allowAddresses: ["127.0.0.1"] } })]);
    const res = await reg.execute({ id: "1", name: "http_get", arguments: { url: `http://docs.example.com:${port}/page` } }, ctx());
    assert.equal(res.ok, true, res.content);
    assert.deepEqual(res.value, { url: `http://docs.example.com:${port}/page`, contentType: "text/plain", text: "hello from docs" });
    assert.equal(seen.at(-1)?.method, "GET");
  });

  it("follows redirects within the allowlist and refuses redirects out of it", async () => {
    const reg = new ToolRegistry([httpGetTool({ allowDomains: ["*.example.com"], guard: { resolver: toLocal, allowAddresses: ["127.0.0.1"] } })]);
    const ok = await reg.execute({ id: "1", name: "http_get", arguments: { url: `http://docs.example.com:${port}/redirect-in` } }, ctx());
    assert.equal(ok.ok, true, ok.content);
    assert.equal((ok.value as { url: string }).url, `http://api.example.com:${port}/page`);
    const before = seen.length;
    const out = await reg.execute({ id: "2", name: "http_get", arguments: { url: `http://docs.example.com:${port}/redirect-out` } }, ctx());
    assert.equal(out.ok, false);
    assert.match(out.content, /evil\.test/);
    assert.equal(seen.length, before + 1, "the off-list target is never contacted");
  });

  it("caps the response size and validates arguments", async () => {
    const reg = new ToolRegistry([httpGetTool({ allowDomains: ["docs.example.com"], maxBytes: 100, guard: { resolver: toLocal, allowAddresses: ["127.0.0.1"] } })]);
    const big = await reg.execute({ id: "1", name: "http_get", arguments: { url: `http://docs.example.com:${port}/big` } }, ctx());
    assert.equal(big.ok, false);
    assert.match(big.content, /exceeds the limit of 100 bytes/);
    const bad = await reg.execute({ id: "2", name: "http_get", arguments: { url: 42 } }, ctx());
    assert.equal(bad.error?.code, "invalid_arguments");
  });
});

describe("documentSearchTool", () => {
  it("wraps a search function with k defaults and bounds", async () => {
    const calls: Array<[string, number, string]> = [];
    const tool = documentSearchTool(async (q, k, c) => {
      calls.push([q, k, c.tenant]);
      return [{ text: "passage one", source: "a.md", score: 0.9 }, { text: "two" }];
    }, { defaultK: 3, maxK: 10 });
    const reg = new ToolRegistry([tool]);
    const res = await reg.execute({ id: "1", name: "document_search", arguments: { query: "refunds" } }, ctx());
    assert.equal(res.ok, true);
    assert.deepEqual(calls, [["refunds", 3, "acme"]]);
    assert.equal((res.value as { results: unknown[] }).results.length, 2);
    const tooMany = await reg.execute({ id: "2", name: "document_search", arguments: { query: "x", k: 50 } }, ctx());
    assert.equal(tooMany.error?.code, "invalid_arguments");
  });
});

describe("webhookTool", () => {
  const definition = {
    name: "create_ticket",
    description: "Creates a support ticket",
    risk: "medium" as const,
    parameters: { type: "object", properties: { title: { type: "string" } }, required: ["title"] },
  };

  it("POSTs the JSON arguments with headers and returns the JSON answer (private address opted in)", async () => {
    const reg = new ToolRegistry([webhookTool({ url: `http://127.0.0.1:${port}/hook`, definition, headers: { authorization: "Bearer s3cret" }, allowPrivate: true })]);
    const res = await reg.execute({ id: "1", name: "create_ticket", arguments: { title: "Printer on fire" } }, ctx());
    assert.equal(res.ok, true, res.content);
    assert.deepEqual(res.value, { received: { title: "Printer on fire" } });
    const req = seen.at(-1)!;
    assert.equal(req.method, "POST");
    assert.equal(req.headers["authorization"], "Bearer s3cret");
    assert.equal(req.headers["content-type"], "application/json");
    assert.equal(req.headers["x-stratum-tenant"], "acme");
  });

  it("refuses a private endpoint without the opt-in", async () => {
    const reg = new ToolRegistry([webhookTool({ url: `http://127.0.0.1:${port}/hook`, definition })]);
    const before = seen.length;
    const res = await reg.execute({ id: "1", name: "create_ticket", arguments: { title: "x" } }, ctx());
    assert.equal(res.ok, false);
    assert.match(res.content, /webhook refused/);
    assert.equal(seen.length, before);
  });

  it("reports HTTP errors and timeouts", async () => {
    const fail = new ToolRegistry([webhookTool({ url: `http://127.0.0.1:${port}/hook-fail`, definition, allowPrivate: true })]);
    const r1 = await fail.execute({ id: "1", name: "create_ticket", arguments: { title: "x" } }, ctx());
    assert.match(r1.content, /HTTP 500/);
    const slow = new ToolRegistry([webhookTool({ url: `http://127.0.0.1:${port}/hook-slow`, definition: { ...definition, timeoutMs: 100 }, allowPrivate: true })]);
    const r2 = await slow.execute({ id: "2", name: "create_ticket", arguments: { title: "x" } }, ctx());
    assert.equal(r2.ok, false);
    assert.equal(r2.error?.code, "tool_timeout");
  });
});
