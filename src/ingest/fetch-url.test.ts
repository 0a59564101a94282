import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fetchUrl } from "./fetch-url.js";
import { blockedReason, vetHost } from "./ssrf-guard.js";
import { IngestError } from "./errors.js";

let hits = 0;
const server: Server = createServer((req, res) => {
  hits++;
  const port = (server.address() as AddressInfo).port;
  if (req.url === "/doc.md") { res.setHeader("content-type", "text/markdown"); res.end("# Hello\n\nFrom the server."); return; }
  if (req.url === "/to-doc") { res.statusCode = 302; res.setHeader("location", "/doc.md"); res.end(); return; }
  if (req.url === "/to-loopback-v6") { res.statusCode = 301; res.setHeader("location", `http://[::1]:${port}/doc.md`); res.end(); return; }
  if (req.url === "/to-metadata") { res.statusCode = 307; res.setHeader("location", "http://169.254.169.254/latest/meta-data/"); res.end(); return; }
  if (req.url === "/loop") { res.statusCode = 302; res.setHeader("location", "/loop"); res.end(); return; }
  if (req.url === "/declared-big") { res.setHeader("content-type", "text/plain"); res.setHeader("content-length", "5000"); res.end("z".repeat(5000)); return; }
  if (req.url === "/big") { res.setHeader("content-type", "text/plain"); res.write("x".repeat(600)); res.end("y".repeat(600)); return; }
  res.statusCode = 404;
  res.end("nope");
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => server.close());

async function blocked(p: Promise<unknown>, re: RegExp) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IngestError, String(e));
    assert.equal(e.reason, "blocked_url");
    assert.match(e.message, re);
    return true;
  });
}

test("address classification: only public unicast passes", () => {
  for (const a of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1"]) {
    assert.ok(blockedReason(a), `${a} should be blocked`);
  }
  for (const a of ["8.8.8.8", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"]) assert.equal(blockedReason(a), undefined, a);
  assert.match(blockedReason("::ffff:127.0.0.1")!, /IPv4-mapped loopback/);
});

test("refuses private hosts before connecting", async () => {
  hits = 0;
  await blocked(fetchUrl(`${base}/doc.md`), /127\.0\.0\.1 \(loopback address\)/);
  const port = (server.address() as AddressInfo).port;
  await blocked(fetchUrl(`http://localhost:${port}/doc.md`), /"localhost" resolves to .* \(loopback address\)/);
  await blocked(fetchUrl(`http://[::1]:${port}/doc.md`), /::1 \(loopback address\)/);
  await blocked(fetchUrl("http://169.254.169.254/latest/meta-data/"), /linkLocal/);
  await blocked(fetchUrl("http://10.0.0.7/x"), /private/);
  await blocked(fetchUrl("http://2130706433/"), /127\.0\.0\.1/); // decimal form of 127.0.0.1, normalised by URL
  await blocked(fetchUrl("file:///etc/passwd"), /only http and https/);
  await blocked(fetchUrl("ftp://example.com/x"), /only http and https/);
  assert.equal(hits, 0, "no request reached the server");
});

test("a resolver answer mixing public and private addresses is refused", async () => {
  const resolver = async () => [{ address: "93.184.216.34", family: 4 as const }, { address: "10.0.0.1", family: 4 as const }];
  await blocked(vetHost(new URL("http://rebind.example/"), { resolver }), /"rebind\.example" resolves to 10\.0\.0\.1/);
  const ok = await vetHost(new URL("http://public.example/"), { resolver: async () => [{ address: "93.184.216.34", family: 4 }] });
  assert.equal(ok.address, "93.184.216.34");
});

test("fetches from a local server when private addresses are allowed, following redirects", async () => {
  const direct = await fetchUrl(`${base}/doc.md`, { allowPrivate: true });
  assert.equal(direct.contentType, "text/markdown");
  assert.equal(direct.bytes.toString(), "# Hello\n\nFrom the server.");
  const redirected = await fetchUrl(`${base}/to-doc`, { allowPrivate: true });
  assert.equal(redirected.url, `${base}/doc.md`);
  assert.equal(redirected.bytes.toString(), "# Hello\n\nFrom the server.");
});

test("the connection goes to the vetted address, whatever the name resolves to later", async () => {
  // The resolver is asked once per hop; the socket uses its answer (no second lookup to rebind).
  let calls = 0;
  const resolver = async () => { calls++; return [{ address: "127.0.0.1", family: 4 as const }]; };
  const port = (server.address() as AddressInfo).port;
  const res = await fetchUrl(`http://docs.internal.test:${port}/doc.md`, { allowAddresses: ["127.0.0.1"], resolver });
  assert.equal(res.bytes.toString(), "# Hello\n\nFrom the server.");
  assert.equal(calls, 1);
});

test("every redirect hop is re-checked: an allowed server cannot bounce to a private address", async () => {
  // 127.0.0.1 is allow-listed for the first hop only; the redirect targets are not.
  hits = 0;
  await blocked(fetchUrl(`${base}/to-loopback-v6`, { allowAddresses: ["127.0.0.1"] }), /::1/);
  await blocked(fetchUrl(`${base}/to-metadata`, { allowAddresses: ["127.0.0.1"] }), /169\.254\.169\.254/);
  assert.equal(hits, 2, "only the first hops reached the server");
});

test("redirect loops, HTTP errors and oversized bodies fail clearly", async () => {
  await assert.rejects(fetchUrl(`${base}/loop`, { allowPrivate: true }), /more than 5 redirects/);
  await assert.rejects(fetchUrl(`${base}/missing`, { allowPrivate: true }), /HTTP 404/);
  await assert.rejects(fetchUrl(`${base}/big`, { allowPrivate: true, maxBytes: 1000 }), (e: unknown) => e instanceof IngestError && e.reason === "too_large");
  assert.equal((await fetchUrl(`${base}/big`, { allowPrivate: true, maxBytes: 1200 })).bytes.length, 1200);
  // A declared Content-Length over the cap is refused before reading, and discarding the body must not
  // raise an uncaught error (it once killed the process).
  await assert.rejects(fetchUrl(`${base}/declared-big`, { allowPrivate: true, maxBytes: 1000 }), (e: unknown) => e instanceof IngestError && e.reason === "too_large");
  await new Promise((r) => setTimeout(r, 50));
});
