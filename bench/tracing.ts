// bench/tracing: what tracing costs per request. One process runs a sim
// upstream and two Stratum servers with the same config except tracing
// (on: every request traced into the SQLite trace store; off:
// tracing.enabled false), and sends the same requests to both in alternating
// rounds, for a plain model and for an extractive RAG pipeline. Prints mean
// ms per request and the on/off ratio.
//   node --import tsx bench/tracing.ts [--requests 2000] [--concurrency 8] [--rounds 4]
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createStratum, type Stratum } from "../src/app/index.js";
import { parseConfig } from "../src/config/index.js";
import type { ConfigInput } from "../src/config/schema.js";
import { createLogger } from "../src/ops/index.js";
import { startSimUpstream } from "../src/sim/server.js";

const { values } = parseArgs({ options: { requests: { type: "string", default: "2000" }, concurrency: { type: "string", default: "8" }, rounds: { type: "string", default: "4" } } });
const REQUESTS = Number(values.requests);
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const ADMIN = "sk-stratum-bench-admin-key";
const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function post(url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: "POST", agent, headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN}`, "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** Mean wall ms per request for `n` requests at the given concurrency. */
async function run(url: string, body: string, n: number): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) {
        next++;
        const status = await post(url, body);
        if (status !== 200) throw new Error(`HTTP ${status}`);
      }
    }),
  );
  return (performance.now() - t0) / n;
}

async function server(config: ConfigInput, dataDir: string): Promise<{ stratum: Stratum; url: string }> {
  const cfg = parseConfig({ ...config, dataDir, server: { port: 0, requestLogs: false, logLevel: "warn" }, retrieval: { sampleCollection: false } });
  const stratum = await createStratum({ config: cfg, adminKey: ADMIN, logger: createLogger("warn") });
  return { stratum, url: await stratum.listen() };
}

const sim = await startSimUpstream({ port: 0 });
const base: ConfigInput = {
  providers: { sim: { type: "openai", baseUrl: `${sim.url}/v1` } },
  models: [{ name: "m", deployments: [{ provider: "sim", model: "m" }] }],
  cache: { enabled: false },
  pipelines: [{ name: "rag", collection: "docs", route: "extractive" }],
};
const dirs = [mkdtempSync(join(tmpdir(), "stratum-bench-on-")), mkdtempSync(join(tmpdir(), "stratum-bench-off-"))];
const on = await server({ ...base, tracing: { enabled: true, onlineEval: { sampleRate: 0.1 } } }, dirs[0]!);
const off = await server({ ...base, tracing: { enabled: false } }, dirs[1]!);
const doc = JSON.stringify({ source: "relay.md", content: "# Relay\n\nThe relay listens on port 7443. It forwards traffic to the backend pool and retries twice." });
for (const s of [on, off]) if ((await post(`${s.url}/v1/collections/docs/documents`, doc)) >= 300) throw new Error("ingest failed");

const cases = [
  { name: "model (sim upstream)", body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "hello there" }] }) },
  { name: "pipeline (extractive RAG)", body: JSON.stringify({ model: "rag", messages: [{ role: "user", content: "Which port does the relay listen on?" }] }) },
];
console.log(`tracing bench: ${REQUESTS} requests per round, concurrency ${CONCURRENCY}, ${ROUNDS} rounds alternating on/off (same process)\n`);
for (const c of cases) {
  await run(`${on.url}/v1/chat/completions`, c.body, 200); // warm-up
  await run(`${off.url}/v1/chat/completions`, c.body, 200);
  const ms = { on: [] as number[], off: [] as number[] };
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which goes first so drift (GC, JIT, the machine) hits both.
    const order = r % 2 ? (["off", "on"] as const) : (["on", "off"] as const);
    for (const which of order) ms[which].push(await run(`${(which === "on" ? on : off).url}/v1/chat/completions`, c.body, REQUESTS));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const mOn = median(ms.on);
  const mOff = median(ms.off);
  console.log(`${c.name.padEnd(28)} off ${mOff.toFixed(3)} ms/req   on ${mOn.toFixed(3)} ms/req   on/off ${(mOn / mOff).toFixed(3)}   (+${((mOn - mOff) * 1000).toFixed(0)} µs/req)`);
}
await on.stratum.tracing!.flush();
const stored = await on.stratum.tracing!.store.list({ limit: 1 });
console.log(`\ntraces stored (tracing on): newest ${stored.traces[0]?.traceId ?? "none"} with ${stored.traces[0]?.spanCount ?? 0} spans; spans dropped: ${on.stratum.tracing!.writer.dropped}`);
await Promise.all([on.stratum.close(), off.stratum.close()]);
await sim.close();
agent.destroy();
for (const d of dirs) rmSync(d, { recursive: true, force: true });
