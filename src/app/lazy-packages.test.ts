// Packages that only some configurations need are not loaded by a server that
// does not use them: each is 1-5 MiB of heap for the life of the process, and
// a larger live heap also lets V8 grow the old generation further before it
// collects (RSS under load). A fresh process starts Stratum on the defaults
// (tracing into the local store on), serves a JSON and a streamed chat
// completion through an HTTP upstream, and reports every module it loaded; a
// second one with OTLP export and a sample ratio must load the SDK parts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

const here = (p: string) => JSON.stringify(new URL(p, import.meta.url).href);

// Module URLs come from a load hook (ESM, on the hooks thread) and from require.cache (CommonJS).
const CHILD = `
import { createRequire, register } from "node:module";
import { MessageChannel } from "node:worker_threads";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
const loaded = new Set();
const { port1, port2 } = new MessageChannel();
port1.on("message", (url) => loaded.add(url));
port1.unref();
const hooks = "let port; export function initialize(d) { port = d.port; } export async function load(url, ctx, next) { port.postMessage(url); return next(url, ctx); }";
register("data:text/javascript," + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });

const { createStratum } = await import(${here("./index.ts")});
const { parseConfig } = await import(${here("../config/index.ts")});
const { startSimUpstream } = await import(${here("../sim/server.ts")});
const { Writable } = await import("node:stream");
const { createLogger } = await import(${here("../ops/index.ts")});

const sim = await startSimUpstream({ port: 0 });
const dataDir = mkdtempSync(join(tmpdir(), "stratum-lazy-"));
const extra = JSON.parse(process.argv[1]);
const config = parseConfig({
  dataDir,
  server: { port: 0 },
  retrieval: { sampleCollection: false },
  providers: { up: { type: "openai", baseUrl: sim.url + "/v1" } },
  models: [{ name: "m", deployments: [{ provider: "up" }] }],
  ...extra,
});
const logger = createLogger("warn", new Writable({ write: (_c, _e, cb) => cb() }));
const stratum = await createStratum({ config, adminKey: "sk-lazy-test-admin-0123456789", logger });
const url = await stratum.listen();
for (const stream of [false, true]) {
  const res = await fetch(url + "/v1/chat/completions", {
    method: "POST",
    headers: { authorization: "Bearer sk-lazy-test-admin-0123456789", "content-type": "application/json" },
    body: JSON.stringify({ model: "m", stream, messages: [{ role: "user", content: "hello there" }] }),
  });
  const text = await res.text();
  if (res.status !== 200 || res.headers.get("x-stratum-model") !== "m") throw new Error("chat failed: " + res.status + " " + text.slice(0, 200));
}
await new Promise((r) => setTimeout(r, 100)); // the last messages from the hooks thread
const require = createRequire(import.meta.url);
process.stdout.write(JSON.stringify([...loaded, ...Object.keys(require.cache).map((f) => "file://" + f)]));
rmSync(dataDir, { recursive: true, force: true });
process.exit(0); // no close: an OTLP exporter would wait out its retries against the dead endpoint
`;

function modulesLoaded(config: Record<string, unknown>): string[] {
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHILD, JSON.stringify(config)], { encoding: "utf8", timeout: 60_000 });
  return JSON.parse(out.trim().split("\n").pop()!) as string[];
}

const fromPackage = (mods: string[], pkg: string) => mods.filter((m) => m.includes(`/node_modules/${pkg}/`));

const LAZY = ["yaml", "htmlparser2", "libphonenumber-js", "pg", "ioredis", "@opentelemetry/sdk-trace-base", "@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/resources", "@opentelemetry/semantic-conventions"];

test("a gateway on the defaults loads neither the optional packages nor all of undici", () => {
  const mods = modulesLoaded({});
  // The recorder sees both kinds of module: the ESM app and the CommonJS Pool it dispatches on.
  assert.ok(mods.some((m) => m.endsWith("/src/gateway/index.ts")), "the load hook saw the app's modules");
  assert.ok(mods.some((m) => m.endsWith("/node_modules/undici/lib/dispatcher/pool.js")), "the upstream calls went through undici's Pool");
  assert.deepEqual(fromPackage(mods, "undici").filter((m) => /\/undici\/(index\.js|lib\/web\/)/.test(m)), [], "undici's index or fetch");
  for (const pkg of LAZY) assert.deepEqual(fromPackage(mods, pkg), [], `${pkg} was loaded`);
});

test("OTLP export and a sample ratio load the SDK parts they need", () => {
  const mods = modulesLoaded({ tracing: { sampleRatio: 0.5, otlp: { endpoint: "http://127.0.0.1:9/v1/traces" } } });
  for (const pkg of ["@opentelemetry/sdk-trace-base", "@opentelemetry/exporter-trace-otlp-http"]) assert.ok(fromPackage(mods, pkg).length > 0, `${pkg} was not loaded`);
});
