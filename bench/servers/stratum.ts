// Stratum as a bench child process: auth (a fixed admin key), rate limits on
// but far above what the bench can reach, metrics on, one request log line
// per request (pino, written to /dev/null), response cache off so the
// upstream is really called (`--cache on` turns it on, for the miss path).
// Fresh data dir under the OS temp dir.
//
// SIGUSR2 prints {"mem": process.memoryUsage()} on stdout, after a full GC
// when started with --expose-gc (the soak uses it to see live heap).
// --heap-sample FILE writes a sampling heap profile of the run (heap-sampling.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compactHeap, createStratum, limitHeapGrowth } from "../../src/app/index.js";
import { parseConfig } from "../../src/config/index.js";
import { createLogger, LogSink } from "../../src/ops/index.js";
import { ADMIN_KEY, MODEL } from "../lib/requests.js";
import { flag, numFlag, onStop, ready } from "./common.js";
import { startHeapSampling } from "./heap-sampling.js";

const upstream = flag("upstream") ?? "http://127.0.0.1:8790";
const adminKey = flag("admin-key") ?? ADMIN_KEY;
const limits = flag("limits", "on") === "on";
const logs = flag("logs", "on") === "on";
// --cache on: the response cache as configured by default (the bench then sends unique prompts, so every request is a miss).
const cache = flag("cache", "off") === "on";
// BENCH_TRACING=off measures the gateway without the local trace store (for the on/off difference).
const tracing = (flag("tracing") ?? process.env.BENCH_TRACING ?? "on") === "on";

const dataDir = mkdtempSync(join(tmpdir(), "stratum-bench-"));
const config = parseConfig({
  server: { host: "127.0.0.1", port: 0, logLevel: "info", requestLogs: logs, drainTimeoutMs: 2_000 },
  dataDir,
  providers: { upstream: { type: "openai", baseUrl: `${upstream}/v1` } },
  models: [{ name: MODEL, deployments: [{ provider: "upstream" }] }],
  cache: { enabled: cache },
  // --first-token-ms / --total-ms: shorter router timeouts for the soak's --soak-chaos (hanging upstream calls).
  router: { timeouts: { firstTokenMs: numFlag("first-token-ms", 30_000), totalMs: numFlag("total-ms", 300_000) } },
  tracing: { enabled: tracing },
  // BENCH_SAMPLE=off: no first-start ingest of Stratum's docs (a restarted server does not run it).
  retrieval: { sampleCollection: process.env.BENCH_SAMPLE !== "off" },
  limits: limits ? { perKey: { requestsPerMinute: 10_000_000, tokensPerMinute: 10_000_000_000, concurrent: 100_000 } } : {},
});
// The sink the default logger writes stdout through, to /dev/null.
const sink = LogSink.to(flag("log-dest", "/dev/null")!);
const logger = createLogger("info", sink);

// As `stratum serve` starts its process (BENCH_HEAP_GROWTH overrides server.heapGrowthPercent; 0 = V8's own).
const heapGrowth = process.env.BENCH_HEAP_GROWTH ? Number(process.env.BENCH_HEAP_GROWTH) : config.server.heapGrowthPercent;
limitHeapGrowth(heapGrowth);
const stratum = await createStratum({ config, adminKey, logger });
if (heapGrowth > 0) compactHeap();
const url = await stratum.listen();
const heapSampleFile = flag("heap-sample");
let served = 0;
if (heapSampleFile) stratum.app.server.on("request", () => served++);
const stopHeapSampling = heapSampleFile ? startHeapSampling(heapSampleFile, () => served) : undefined;
ready(url, { dataDir });

process.on("SIGUSR2", () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
  process.stdout.write(`${JSON.stringify({ mem: process.memoryUsage(), gc: Boolean(gc) })}\n`);
});

onStop(async () => {
  stopHeapSampling?.();
  await stratum.close();
  sink.flushSync();
  rmSync(dataDir, { recursive: true, force: true });
});
