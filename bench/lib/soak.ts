// The memory soak: Stratum (started with --expose-gc) behind a sim-upstream
// that paces its answers (5 ms to the first token, 2000 tokens/s), under
// mixed traffic with bounded concurrency: half streaming, half not, and one
// stream in ten aborted by the client midway (socket destroyed). Every 10 s
// it prints requests done and Stratum's RSS and live heap (after a forced GC,
// via SIGUSR2); at the end, RSS and heap at start (after warm-up), peak and
// end, and the growth per 100k requests.
import http from "node:http";
import type { Options } from "./args.js";
import type { Runtime } from "./build.js";
import { memOf, startChild, type Child } from "./procs.js";
import { BODIES, MODEL, uniqueBodies } from "./requests.js";
import { fmt, slope } from "./stats.js";

const MiB = 1024 * 1024;
const log = (s = "") => process.stdout.write(`${s}\n`);

/**
 * The faults of --soak-chaos, and router timeouts that keep a hung call from
 * holding a slot for minutes. The first-token timeout stays well above any
 * event-loop stall: loading the tokenizer (the fallback's first answer) blocks
 * the loop for ~200 ms, and a 250 ms timeout then failed every stream in
 * flight at once, which opened the circuit.
 */
const CHAOS_SIM = ["--error-rate", "0.03", "--rate-limit-rate", "0.02", "--retry-after", "0", "--hang-rate", "0.0005", "--mid-stream-error-rate", "0.01"];
const CHAOS_STRATUM = ["--first-token-ms", "1000", "--total-ms", "2000"];

interface Counters {
  done: number;
  /** Answered by the extractive fallback (allowed only with --soak-chaos). */
  fallback: number;
  json: number;
  streams: number;
  aborted: number;
  errors: number;
  firstErrors: string[];
}

type Outcome = "json" | "stream" | "fallback" | "aborted" | { error: string };

const uniqueBody = { json: uniqueBodies("json"), stream: uniqueBodies("stream") };
/** The same prompt every time, or (`--soak-cache`) one the cache has never seen. */
function bodyOf(stream: boolean, uniquePrompt: boolean): string {
  if (!uniquePrompt) return stream ? BODIES.stream : BODIES.json;
  return uniqueBody[stream ? "stream" : "json"]();
}

interface RequestKind {
  /** A prompt the cache has never seen. */
  uniquePrompt: boolean;
  /** The extractive fallback may answer (the upstream is faulty on purpose). */
  fallbackAllowed: boolean;
}

function request(agent: http.Agent, base: URL, key: string, stream: boolean, abortAfterChunks: number, { uniquePrompt, fallbackAllowed }: RequestKind): Promise<Outcome> {
  const body = bodyOf(stream, uniquePrompt);
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: "POST",
        path: "/v1/chat/completions",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let chunks = 0;
        let tail = "";
        res.on("data", (c: Buffer) => {
          tail = (tail + c.toString("latin1")).slice(-64); // bounded: only the end is checked
          if (abortAfterChunks > 0 && ++chunks >= abortAfterChunks) {
            req.destroy(); // the client goes away mid-stream
            done("aborted");
          }
        });
        res.on("end", () => {
          if (res.statusCode !== 200) return done({ error: `HTTP ${res.statusCode}: ${tail}` });
          if (stream && !tail.includes("data: [DONE]")) return done({ error: `stream ended without [DONE]: ${JSON.stringify(tail)}` });
          // A fallback answer is a 200 too: unless the upstream is faulty on purpose, the soak must measure the upstream path.
          const servedBy = res.headers["x-stratum-model"];
          if (servedBy === "extractive" && fallbackAllowed) return done("fallback");
          if (servedBy !== MODEL) return done({ error: `served by ${String(servedBy)}, not ${MODEL}'s upstream (a fallback)` });
          if (uniquePrompt && res.headers["x-stratum-cache"] !== "miss") return done({ error: `x-stratum-cache: ${String(res.headers["x-stratum-cache"])} for a unique prompt` });
          done(stream ? "stream" : "json");
        });
        res.on("error", (e) => done(settled ? "aborted" : { error: e.message }));
      },
    );
    req.on("error", (e) => done({ error: e.message }));
    req.end(body);
  });
}

interface Sample {
  at: number;
  done: number;
  rssMiB: number;
  /** Anonymous resident memory (VmRSS minus file-backed pages such as the mmapped SQLite file). */
  anonMiB: number;
  heapMiB: number;
}

async function memSample(stratum: Child, done: number, t0: number): Promise<Sample> {
  const signalled = stratum.nextLine("mem", 10_000);
  process.kill(stratum.pid, "SIGUSR2");
  const line = (await signalled) as { mem: NodeJS.MemoryUsage };
  const m = memOf(stratum.pid);
  return { at: (performance.now() - t0) / 1000, done, rssMiB: m?.rss ?? NaN, anonMiB: m?.anon ?? NaN, heapMiB: line.mem.heapUsed / MiB };
}

export async function runSoak(opts: Options, rt: Runtime, adminKey: string): Promise<void> {
  const seconds = opts.soakSeconds;
  // Long enough for one-time growth (JIT code, lazily loaded tables, pools filling up) to happen before the baseline.
  const warmup = Math.round(Math.min(30, Math.max(10, seconds * 0.1)));
  log(`bench/gateway --soak  ${new Date().toISOString()}`);
  log(`${seconds} s of mixed traffic at ${opts.soakConcurrency} in flight (warm-up ${warmup} s): 50% streaming, 50% non-streaming, 10% of streams aborted by the client`);
  log("sim-upstream: 5 ms to first token, 2000 tokens/s, 16 tokens per answer; Stratum started with --expose-gc, heap figures are after a forced GC");
  if (opts.soakCache) log("response cache on (10,000 entries by default), a unique prompt per request: every request is a miss and is stored");

  if (opts.soakChaos) log(`faulty upstream: ${CHAOS_SIM.join(" ")}; Stratum ${CHAOS_STRATUM.join(" ")}; answers from the extractive fallback are allowed and counted`);
  const sim = await startChild({ name: "sim-upstream", nodeArgs: [...rt.args("sim"), "--ttft-ms", "5", "--tokens-per-second", "2000", ...(opts.soakChaos ? CHAOS_SIM : [])] });
  const stratum = await startChild({
    name: "stratum",
    nodeArgs: [...rt.args("stratum", ["--expose-gc"]), "--upstream", sim.url, "--admin-key", adminKey, "--cache", opts.soakCache ? "on" : "off", ...(opts.soakChaos ? CHAOS_STRATUM : [])],
    env: rt.env("stratum"),
  });
  log(`sim-upstream pid ${sim.pid} ${sim.url}; stratum pid ${stratum.pid} ${stratum.url}`);
  log();

  const base = new URL(stratum.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.soakConcurrency });
  const c: Counters = { done: 0, fallback: 0, json: 0, streams: 0, aborted: 0, errors: 0, firstErrors: [] };
  const kind: RequestKind = { uniquePrompt: opts.soakCache, fallbackAllowed: opts.soakChaos };
  let stop = false;
  const worker = async () => {
    while (!stop) {
      const stream = Math.random() < 0.5;
      const abortAfter = stream && Math.random() < 0.1 ? 1 + Math.floor(Math.random() * 6) : 0;
      const o = await request(agent, base, adminKey, stream, abortAfter, kind);
      c.done++;
      if (o === "json") c.json++;
      else if (o === "fallback") c.fallback++;
      else if (o === "stream") c.streams++;
      else if (o === "aborted") c.aborted++;
      else {
        c.errors++;
        if (c.firstErrors.length < 5) c.firstErrors.push(o.error);
      }
    }
  };

  const t0 = performance.now();
  const workers = Array.from({ length: opts.soakConcurrency }, () => worker());
  const samples: Sample[] = [];
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, memOf(stratum.pid)?.rss ?? 0)), 500);
  try {
    await new Promise((r) => setTimeout(r, warmup * 1000));
    const start = await memSample(stratum, c.done, t0);
    samples.push(start);
    peakRss = start.rssMiB;
    log(`[${clock(start.at)}] warm-up done: ${fmt.int(c.done)} requests; start RSS ${fmt.mib(start.rssMiB)} MiB, heap ${fmt.mib(start.heapMiB)} MiB`);
    let lastDone = c.done;
    let lastAt = start.at;
    while ((performance.now() - t0) / 1000 < seconds) {
      const left = seconds - (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, Math.min(10, left) * 1000));
      const s = await memSample(stratum, c.done, t0);
      samples.push(s);
      const rate = (s.done - lastDone) / (s.at - lastAt);
      lastDone = s.done;
      lastAt = s.at;
      log(
        `[${clock(s.at)}] ${fmt.int(c.done).padStart(9)} requests (${fmt.int(rate)}/s; ${fmt.int(c.json)} json, ${fmt.int(c.streams)} streams, ${fmt.int(c.aborted)} aborted, ${opts.soakChaos ? `${fmt.int(c.fallback)} by the fallback, ` : ""}${c.errors} errors)  ` +
          `stratum RSS ${fmt.mib(s.rssMiB)} MiB (anon ${fmt.mib(s.anonMiB)}), heap ${fmt.mib(s.heapMiB)} MiB`,
      );
    }
    stop = true;
    await Promise.all(workers);
    agent.destroy();
    await new Promise((r) => setTimeout(r, 1000)); // let aborted upstream calls and log writes settle
    const end = await memSample(stratum, c.done, t0);
    clearInterval(rssTimer);
    peakRss = Math.max(peakRss, end.rssMiB);
    const hwm = memOf(stratum.pid)?.hwm ?? NaN;
    const measured = end.done - start.done;
    const per100k = (d: number) => (d / measured) * 100_000;
    const xs = samples.map((s) => s.done);
    const heapSlope = slope(xs, samples.map((s) => s.heapMiB)) * 100_000;
    const rssSlope = slope(xs, samples.map((s) => s.rssMiB)) * 100_000;
    // The verdict looks at the second half: a leak keeps growing with requests, a
    // one-time step (something loaded or filled up once) does not.
    const late = samples.slice(Math.floor(samples.length / 2));
    const mid = late[0]!;
    const lateSlope = slope(late.map((s) => s.done), late.map((s) => s.heapMiB)) * 100_000;

    log();
    log("Soak summary (Stratum process)");
    log(`  requests           ${fmt.int(c.done)} total, ${fmt.int(measured)} after warm-up (${fmt.int(c.json)} json, ${fmt.int(c.streams)} streams, ${fmt.int(c.aborted)} aborted by the client, ${opts.soakChaos ? `${fmt.int(c.fallback)} answered by the fallback, ` : ""}${c.errors} errors) in ${fmt.ms(end.at, 0)} s`);
    log(`  RSS                start ${fmt.mib(start.rssMiB)} MiB, peak ${fmt.mib(peakRss)} MiB (VmHWM ${fmt.mib(hwm)}), end ${fmt.mib(end.rssMiB)} MiB`);
    log(`  anonymous RSS      start ${fmt.mib(start.anonMiB)} MiB, end ${fmt.mib(end.anonMiB)} MiB (the rest is file-backed: code and mmapped SQLite pages)`);
    log(`  heap after GC      start ${fmt.mib(start.heapMiB)} MiB, end ${fmt.mib(end.heapMiB)} MiB`);
    log(`  growth / 100k req  RSS ${signed(per100k(end.rssMiB - start.rssMiB))} MiB (end - start), ${signed(rssSlope)} MiB (fit over ${samples.length} samples)`);
    log(`                     heap ${signed(per100k(end.heapMiB - start.heapMiB))} MiB (end - start), ${signed(heapSlope)} MiB (fit over ${samples.length} samples)`);
    if (c.firstErrors.length) log(`  first errors: ${c.firstErrors.join(" | ")}`);
    log(
      `  second half        heap ${fmt.mib(mid.heapMiB)} -> ${fmt.mib(end.heapMiB)} MiB over ${fmt.int(end.done - mid.done)} requests; ` +
        `fit ${signed(lateSlope)} MiB / 100k over ${late.length} samples`,
    );
    const flat = Number.isFinite(lateSlope) && lateSlope < 1 && end.heapMiB - mid.heapMiB < 2;
    log(`  ${flat ? "PASS" : "MISS"}  memory does not grow with request count (second half: live heap fit < 1 MiB per 100k requests, end - midpoint < 2 MiB)`);
    if (c.errors) log(`  MISS  ${c.errors} requests failed`);
  } finally {
    stop = true;
    clearInterval(rssTimer);
    agent.destroy();
    await stratum.stop();
    await sim.stop();
  }
}

function clock(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
}

function signed(n: number): string {
  return Number.isFinite(n) ? `${n >= 0 ? "+" : ""}${n.toFixed(2)}` : "-";
}
