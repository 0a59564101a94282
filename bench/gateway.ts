// bench/gateway: throughput, latency, time to first byte and memory of
// Stratum against the same zero-latency upstream reached directly, through a
// bare node:http pass-through proxy (the floor) and through Portkey (when
// installed). Every system runs in its own child process; the load comes from
// this process. Systems are measured interleaved (cell by cell), so a ratio
// compares figures taken seconds apart. `--soak` runs the memory soak
// instead. See bench/README.md.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseOptions, type Options } from "./lib/args.js";
import { prepareRuntime, RESULTS_DIR, ROOT_DIR, type Runtime } from "./lib/build.js";
import { load, type LoadResult } from "./lib/load.js";
import { findPortkey, PORTKEY_MISSING, type Portkey } from "./lib/portkey.js";
import { probe, summarize, type ProbeResult, type ProbeSamples, type Target } from "./lib/probe.js";
import { ADMIN_KEY, BODIES, type Mode } from "./lib/requests.js";
import { summarizeHeapProfile } from "./lib/heap-profile.js";
import { summarizeProfile } from "./lib/profile.js";
import { cpuSecondsOf, machineBusySeconds, memOf, sampleRss, startChild, stopAll, type Child } from "./lib/procs.js";
import { runSoak } from "./lib/soak.js";
import { fmt, percentile, table } from "./lib/stats.js";

const MODE_TITLE: Record<Mode, string> = { json: "Non-streaming", stream: "Streaming (SSE, whole response)" };

type SystemId = "direct" | "floor" | "stratum" | "stratum-untraced" | "portkey";
const DESCRIBE: Record<SystemId, string> = {
  direct: "client -> sim-upstream",
  floor: "client -> bare node:http proxy (parse, re-serialise, keep-alive forward, pipe back) -> sim-upstream",
  stratum: "client -> Stratum (auth, rate limits, metrics, request logs, tracing into the local store; cache off) -> sim-upstream",
  "stratum-untraced": "client -> the same Stratum with tracing.enabled: false -> sim-upstream",
  portkey: "client -> Portkey gateway -> sim-upstream",
};

interface Cell extends LoadResult {
  system: SystemId;
  mode: Mode;
  rep: number;
  /** CPU % (of one core) of the system's own process (the gateway; sim-upstream for direct). */
  cpuPct: number;
  /** CPU microseconds the system's own process spent per 2xx response. */
  cpuUsPerReq: number;
  simCpuPct: number;
  clientCpuPct: number;
  /** CPU % used by everything else on the machine meanwhile (other users of the box). */
  otherCpuPct: number;
}

interface Memory {
  system: SystemId;
  process: string;
  idleMiB: number;
  loadMaxMiB: number;
  /** After the load: anonymous vs file-backed (mmapped) resident memory. */
  anonEndMiB?: number;
  fileEndMiB?: number;
  hwmMiB: number;
}

interface Run {
  startedAt: string;
  machine: { cpus: number; model: string; node: string; loadavgStart: string; loadavgEnd?: string };
  git: { head: string; dirtySrcFiles: number } | null;
  options: Options;
  runtime: Runtime["kind"];
  portkey: Omit<Portkey, "entry"> | null;
  /** Medians over repeats. */
  cells: Cell[];
  rawCells: Cell[];
  probes: Array<ProbeResult & { system: SystemId; mode: Mode }>;
  memory: Memory[];
  /** Judged for each Stratum system measured (with tracing, the default; without, the issue's configuration). */
  targets: Array<{ system: SystemId; name: string; status: "PASS" | "MISS" | "SKIP"; value: string }>;
  profile?: string[];
  heapProfile?: string[];
  /** Per Stratum system: answers served by a fallback during the run (should be 0). */
  fallbackAnswers?: Partial<Record<SystemId, number>>;
}

interface System {
  id: SystemId;
  child: Child | undefined;
  /** The process whose CPU and memory are reported. */
  pid: number;
  target: Target;
  idleMiB: number;
}

const log = (s = "") => process.stdout.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loadavg = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

function gitInfo(): Run["git"] {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT_DIR, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: ROOT_DIR, encoding: "utf8" }).split("\n").filter(Boolean).length;
    return { head, dirtySrcFiles: dirty };
  } catch {
    return null;
  }
}

async function check(t: Target, mode: Mode, who: SystemId): Promise<void> {
  const r = await fetch(new URL(t.path, t.url), { method: "POST", headers: { ...t.headers, "content-type": "application/json" }, body: BODIES[mode] });
  const text = await r.text();
  const ok = r.status === 200 && (mode === "json" ? text.includes('"choices"') : text.includes("data: [DONE]"));
  if (!ok) throw new Error(`${who}: ${mode} sanity request failed: HTTP ${r.status} ${text.slice(0, 300)}`);
}

/**
 * Answers Stratum served from a fallback route (its `stratum_fallbacks_total`):
 * a 200 all the same, so load figures would silently measure the fallback.
 */
async function fallbackAnswers(t: Target): Promise<number> {
  const r = await fetch(new URL("/metrics", t.url), { headers: t.headers });
  const text = await r.text();
  let n = 0;
  for (const m of text.matchAll(/^stratum_fallbacks_total\{[^}]*\} (\d+(?:\.\d+)?)$/gm)) n += Number(m[1]);
  return n;
}

async function measureCell(s: System, simPid: number, mode: Mode, connections: number, seconds: number, rep: number): Promise<Cell> {
  const cpu0 = cpuSecondsOf(s.pid);
  const sim0 = cpuSecondsOf(simPid);
  const all0 = machineBusySeconds();
  const me0 = process.cpuUsage();
  const r = await load(s.target, BODIES[mode], connections, seconds);
  const cpu = cpuSecondsOf(s.pid) - cpu0;
  const simCpu = s.pid === simPid ? 0 : cpuSecondsOf(simPid) - sim0;
  const all = machineBusySeconds() - all0;
  const meUs = process.cpuUsage(me0);
  const me = (meUs.user + meUs.system) / 1e6;
  const pct = (x: number) => (x / r.seconds) * 100;
  return {
    ...r,
    system: s.id,
    mode,
    rep,
    cpuPct: pct(cpu),
    cpuUsPerReq: r.ok ? (cpu * 1e6) / r.ok : NaN,
    simCpuPct: pct(s.pid === simPid ? cpu : simCpu),
    clientCpuPct: pct(me),
    otherCpuPct: Math.max(0, pct(all - cpu - simCpu - me)),
  };
}

function median(xs: number[]): number {
  return percentile(xs, 50);
}

async function bench(opts: Options): Promise<void> {
  const modes = opts.modes;
  const run: Run = {
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? "?", node: process.version, loadavgStart: loadavg() },
    git: gitInfo(),
    options: opts,
    runtime: opts.runtime,
    portkey: null,
    cells: [],
    rawCells: [],
    probes: [],
    memory: [],
    targets: [],
  };
  log(`bench/gateway  ${run.startedAt}${run.git ? `  (git ${run.git.head}${run.git.dirtySrcFiles ? `, ${run.git.dirtySrcFiles} uncommitted files under src/` : ""})` : ""}`);
  log(`machine: ${run.machine.cpus} x ${run.machine.model}, node ${run.machine.node}, load average ${run.machine.loadavgStart}`);
  log(
    `${opts.duration} s per cell x ${opts.repeat} run${opts.repeat > 1 ? "s (medians)" : ""}, connections ${opts.connections.join("/")}, ` +
      `${opts.probe} sequential requests per probe, max_tokens 16; servers run as ${opts.runtime === "bundle" ? "esbuild bundles" : "tsx"}`,
  );

  const portkey = opts.targets.includes("portkey") ? findPortkey() : undefined;
  if (opts.targets.includes("portkey")) {
    if (!portkey) log(PORTKEY_MISSING);
    else {
      run.portkey = { dir: portkey.dir, version: portkey.version, honoNodeServer: portkey.honoNodeServer };
      log(`Portkey: @portkey-ai/gateway ${portkey.version} from ${portkey.dir} (@hono/node-server ${portkey.honoNodeServer ?? "?"})`);
      if (portkey.honoNodeServer && !portkey.honoNodeServer.startsWith("1.13.")) {
        log(`  warning: @hono/node-server ${portkey.honoNodeServer} is not 1.13.x; Portkey's streaming fails with newer versions (see bench/README.md)`);
      }
    }
  }
  const ids = (["direct", "floor", "stratum", "stratum-untraced", "portkey"] as SystemId[]).filter((s) => opts.targets.includes(s) && (s !== "portkey" || portkey));

  const rt = await prepareRuntime(opts.runtime);
  const profDir = join(RESULTS_DIR, `prof-${Date.now()}`);
  const heapFile = join(profDir, "stratum.heapprofile.json");
  if (opts.heapProfile) mkdirSync(profDir, { recursive: true });
  // --profile and --heap-profile profile one Stratum process: the default one when measured, else the untraced one.
  const profiled: SystemId = ids.includes("stratum") ? "stratum" : "stratum-untraced";
  const sim = await startChild({ name: "sim-upstream", nodeArgs: rt.args("sim") });
  const systems: System[] = [];
  log();
  log(`sim-upstream  pid ${sim.pid}  ${sim.url}  (zero latency, 16 tokens per answer)`);
  for (const id of ids) {
    let child: Child | undefined;
    let headers: Record<string, string> = { authorization: `Bearer ${ADMIN_KEY}` };
    if (id === "floor") child = await startChild({ name: "bare-proxy", nodeArgs: [...rt.args("bare-proxy"), "--upstream", sim.url] });
    if (id === "stratum" || id === "stratum-untraced") {
      // BENCH_STRATUM_NODE_FLAGS: extra node/V8 flags for the Stratum process only (e.g. heap sizing experiments).
      const flags = [...(opts.profile && id === profiled ? ["--cpu-prof", "--cpu-prof-dir", profDir] : []), ...(process.env.BENCH_STRATUM_NODE_FLAGS?.split(/\s+/).filter(Boolean) ?? [])];
      const tracing = id === "stratum-untraced" ? ["--tracing", "off"] : [];
      const heapSample = opts.heapProfile && id === profiled ? ["--heap-sample", heapFile] : [];
      child = await startChild({ name: id, nodeArgs: [...rt.args("stratum", flags), "--upstream", sim.url, "--admin-key", ADMIN_KEY, ...tracing, ...heapSample], env: rt.env("stratum") });
    }
    if (id === "portkey") {
      child = await startChild({ name: "portkey", nodeArgs: [...rt.args("portkey"), "--port=0", "--headless"], env: { PORTKEY_ENTRY: portkey!.entry }, cwd: portkey!.dir });
      headers = { ...headers, "x-portkey-provider": "openai", "x-portkey-custom-host": `${sim.url}/v1` };
    }
    const pid = child?.pid ?? sim.pid;
    const s: System = { id, child, pid, target: { url: child?.url ?? sim.url, path: "/v1/chat/completions", headers }, idleMiB: memOf(pid)?.rss ?? NaN };
    systems.push(s);
    log(`${id.padEnd(8)} ${DESCRIBE[id]}${child ? `  [pid ${pid} ${child.url}]` : ""}`);
  }

  for (const s of systems) for (const mode of modes) await check(s.target, mode, s.id);
  log();
  log(`warm-up: ${opts.warmup} s per system and mode at 10 connections`);
  for (const s of systems) for (const mode of modes) await load(s.target, BODIES[mode], 10, opts.warmup);

  // Sequential probes in rounds, systems alternating, so that a change in the
  // machine's state (other load, CPU idle states) hits every system alike.
  const rounds = 5;
  const per = Math.ceil(opts.probe / rounds);
  log(`probes: 1 connection, ${per * rounds} sequential requests per system and mode, in ${rounds} alternating rounds of ${per} (+50 unrecorded each)`);
  for (const mode of modes) {
    const acc = new Map<SystemId, ProbeSamples>();
    for (let r = 0; r < rounds; r++) for (const s of systems) acc.set(s.id, await probe(s.target, BODIES[mode], per, 50, acc.get(s.id)));
    for (const s of systems) {
      const p = summarize(acc.get(s.id)!);
      run.probes.push({ ...p, system: s.id, mode });
      log(
        `  ${mode.padEnd(6)} ${s.id.padEnd(8)} end p50 ${fmt.ms(p.totalP50, 3)} ms p99 ${fmt.ms(p.totalP99, 3)} ms, first byte p50 ${fmt.ms(p.ttfbP50, 3)} ms p99 ${fmt.ms(p.ttfbP99, 3)} ms` +
          (p.errors ? `  !! ${p.errors} errors` : ""),
      );
    }
  }

  const total = opts.repeat * modes.length * opts.connections.length * systems.length;
  log(`load: ${total} cells of ${opts.duration} s (~${Math.ceil((total * (opts.duration + 0.5)) / 60)} min)`);
  const rssMax = new Map<number, number>();
  let n = 0;
  for (let rep = 1; rep <= opts.repeat; rep++) {
    for (const mode of modes) {
      for (const c of opts.connections) {
        for (const s of systems) {
          const stopSampling = sampleRss([s.pid]);
          const cell = await measureCell(s, sim.pid, mode, c, opts.duration, rep);
          const m = stopSampling().get(s.pid) ?? NaN;
          rssMax.set(s.pid, Math.max(rssMax.get(s.pid) ?? 0, m));
          run.rawCells.push(cell);
          const bad = cell.non2xx + cell.errors + cell.timeouts;
          log(
            `  [${String(++n).padStart(String(total).length)}/${total}] ${mode.padEnd(6)} c=${String(c).padEnd(3)} ${s.id.padEnd(8)} ${fmt.int(cell.rps).padStart(7)} rps  ` +
              `p50 ${fmt.ms(cell.p50)} ms  p99 ${fmt.ms(cell.p99)} ms  CPU ${fmt.int(cell.cpuPct)}%` +
              (s.id !== "direct" ? ` (upstream ${fmt.int(cell.simCpuPct)}%, client ${fmt.int(cell.clientCpuPct)}%` : ` (client ${fmt.int(cell.clientCpuPct)}%`) +
              `, others ${fmt.int(cell.otherCpuPct)}%)  RSS ${fmt.mib(m)} MiB` +
              (bad ? `  !! ${cell.non2xx} non-2xx, ${cell.errors} errors, ${cell.timeouts} timeouts` : ""),
          );
          await sleep(250);
        }
      }
    }
  }
  for (const s of systems) {
    if (!s.id.startsWith("stratum")) continue;
    const n = await fallbackAnswers(s.target);
    run.fallbackAnswers ??= {};
    run.fallbackAnswers[s.id] = n;
    if (n) log(`!! ${s.id}: ${fmt.int(n)} answers came from a fallback, not the upstream: its figures do not measure the upstream path`);
  }
  for (const s of systems) {
    const end = memOf(s.pid);
    run.memory.push({ system: s.id, process: s.child?.name ?? "sim-upstream", idleMiB: s.idleMiB, loadMaxMiB: rssMax.get(s.pid) ?? NaN, hwmMiB: end?.hwm ?? NaN, anonEndMiB: end?.anon ?? NaN, fileEndMiB: end?.file ?? NaN });
  }
  // Medians over repeats.
  for (const mode of modes)
    for (const c of opts.connections)
      for (const s of systems) {
        const xs = run.rawCells.filter((x) => x.system === s.id && x.mode === mode && x.connections === c);
        const med = (k: keyof Cell) => median(xs.map((x) => x[k] as number));
        run.cells.push({
          ...xs[0]!,
          rep: 0,
          rps: med("rps"),
          p50: med("p50"),
          p99: med("p99"),
          cpuPct: med("cpuPct"),
          cpuUsPerReq: med("cpuUsPerReq"),
          simCpuPct: med("simCpuPct"),
          clientCpuPct: med("clientCpuPct"),
          otherCpuPct: med("otherCpuPct"),
          ok: xs.reduce((a, x) => a + x.ok, 0),
          non2xx: xs.reduce((a, x) => a + x.non2xx, 0),
          errors: xs.reduce((a, x) => a + x.errors, 0),
          timeouts: xs.reduce((a, x) => a + x.timeouts, 0),
        });
      }

  for (const s of systems) await s.child?.stop();
  await sim.stop();
  run.machine.loadavgEnd = loadavg();

  report(run, ids);
  if (opts.profile) {
    mkdirSync(profDir, { recursive: true });
    const files = readdirSync(profDir).filter((f) => f.endsWith(".cpuprofile"));
    if (files.length) {
      const bundle = rt.kind === "bundle" ? join(RESULTS_DIR, ".build", "stratum.mjs") : undefined;
      run.profile = summarizeProfile(join(profDir, files[0]!), bundle);
      log();
      log(`CPU profile of the ${profiled} process, whole run (${join(profDir, files[0]!)}):`);
      for (const l of run.profile) log(l);
    }
  }
  if (opts.heapProfile && existsSync(heapFile)) {
    const bundle = rt.kind === "bundle" ? join(RESULTS_DIR, ".build", "stratum.mjs") : undefined;
    run.heapProfile = summarizeHeapProfile(heapFile, bundle);
    log();
    log(`Allocation by the ${profiled} process, whole run after start-up (${heapFile}):`);
    for (const l of run.heapProfile) log(l);
  }
  if (opts.json) {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `gateway-${run.startedAt.replace(/[:.]/g, "-")}.json`);
    writeFileSync(file, JSON.stringify(run, null, 2));
    log();
    log(`results: ${file}`);
  }
}

function report(run: Run, systems: SystemId[]): void {
  const modes = run.options.modes;
  const cell = (s: SystemId, m: Mode, c: number) => run.cells.find((x) => x.system === s && x.mode === m && x.connections === c);
  const pr = (s: SystemId, m: Mode) => run.probes.find((x) => x.system === s && x.mode === m);
  log();
  log("=".repeat(100));
  log(`load average ${run.machine.loadavgStart} at start, ${run.machine.loadavgEnd} at end`);
  for (const mode of modes) {
    log();
    log(`${MODE_TITLE[mode]}: ${run.options.duration} s per cell${run.options.repeat > 1 ? `, median of ${run.options.repeat}` : ""}; RPS = 2xx responses/s; p50/p99 from autocannon's per-response times`);
    const rows = [["conns", "system", "RPS", "p50 ms", "p99 ms", "CPU%", "CPU us/req", "others%", "vs floor", "vs Portkey"]];
    for (const c of run.options.connections) {
      for (const s of systems) {
        const x = cell(s, mode, c);
        if (!x) continue;
        const floor = cell("floor", mode, c);
        const pk = cell("portkey", mode, c);
        rows.push([
          String(c),
          s,
          fmt.int(x.rps),
          fmt.ms(x.p50),
          fmt.ms(x.p99),
          fmt.int(x.cpuPct),
          fmt.int(x.cpuUsPerReq),
          fmt.int(x.otherCpuPct),
          s === "direct" || s === "floor" || !floor ? "-" : fmt.ratio(x.rps / floor.rps),
          s === "direct" || s === "portkey" || !pk ? "-" : fmt.ratio(x.rps / pk.rps),
        ]);
      }
    }
    log(table(rows));
  }
  log("  CPU%, CPU us/req: the system's own process (sim-upstream's for direct). others%: CPU used meanwhile by processes outside the");
  log("  bench (other users of this machine); 200% = both cores. The client, upstream and gateway share the 2 cores.");

  log();
  log(`Latency at 1 connection: ${run.options.probe} sequential requests each (node:http, performance.now); "added" = minus direct`);
  const d = { json: pr("direct", "json"), stream: pr("direct", "stream") };
  const rows = [["system", "JSON p50 ms", "JSON p99 ms", "added p50", "TTFB p50 ms", "TTFB p99 ms", "TTFB vs upstream", "stream end p50 ms"]];
  for (const s of systems) {
    const j = pr(s, "json");
    const st = pr(s, "stream");
    rows.push([
      s,
      fmt.ms(j?.totalP50 ?? NaN, 3),
      fmt.ms(j?.totalP99 ?? NaN, 3),
      s === "direct" ? "-" : fmt.signedMs((j?.totalP50 ?? NaN) - (d.json?.totalP50 ?? NaN)),
      fmt.ms(st?.ttfbP50 ?? NaN, 3),
      fmt.ms(st?.ttfbP99 ?? NaN, 3),
      s === "direct" ? "-" : fmt.signedMs((st?.ttfbP50 ?? NaN) - (d.stream?.ttfbP50 ?? NaN)),
      fmt.ms(st?.totalP50 ?? NaN, 3),
    ]);
  }
  log(table(rows));
  log("  TTFB = time to the first byte of the response body (for SSE: the first streamed event).");

  log();
  log("Resident memory (VmRSS from /proc), MiB");
  log(
    table([
      ["system", "process", "idle", "max under load", "peak (VmHWM)", "end: anon", "end: file-backed"],
      ...run.memory.map((m) => [m.system, m.process, fmt.mib(m.idleMiB), fmt.mib(m.loadMaxMiB), fmt.mib(m.hwmMiB), fmt.mib(m.anonEndMiB ?? NaN), fmt.mib(m.fileEndMiB ?? NaN)]),
    ]),
  );

  // ------------------------------------------------------------- targets ---
  const ratios = (other: SystemId, of: SystemId) => {
    const out: Array<{ r: number; where: string; mode: Mode; c: number }> = [];
    for (const mode of modes)
      for (const c of run.options.connections) {
        const a = cell(of, mode, c);
        const b = cell(other, mode, c);
        if (a && b) out.push({ r: a.rps / b.rps, where: `${mode}, ${c} conn`, mode, c });
      }
    return out.sort((x, y) => x.r - y.r);
  };
  const range = (rs: Array<{ r: number; where: string }>) => `lowest ${fmt.ratio(rs[0]!.r)} (${rs[0]!.where}), highest ${fmt.ratio(rs.at(-1)!.r)} (${rs.at(-1)!.where})`;
  // Where even the floor is under 5x Portkey (one connection: latency-bound), the cell cannot pass: say so.
  const floorVsPk = ratios("portkey", "floor");
  const floorNote = (r: { mode: Mode; c: number } | undefined) => {
    const f = r && floorVsPk.find((x) => x.mode === r.mode && x.c === r.c)?.r;
    return f !== undefined ? `; the floor itself is ${fmt.ratio(f)} Portkey there` : "";
  };
  const judge = (sys: SystemId) => {
    const target = (name: string, ok: boolean | undefined, value: string) => run.targets.push({ system: sys, name, status: ok === undefined ? "SKIP" : ok ? "PASS" : "MISS", value });
    const vsPk = ratios("portkey", sys);
    target("throughput >= 5x Portkey's (every cell)", vsPk.length ? vsPk[0]!.r >= 5 : undefined, vsPk.length ? range(vsPk) + floorNote(vsPk[0]) : "Portkey not measured");
    const vsFloor = ratios("floor", sys);
    target("throughput >= 0.5x the floor's (every cell)", vsFloor.length ? vsFloor[0]!.r >= 0.5 : undefined, vsFloor.length ? range(vsFloor) : "floor not measured");
    const sj = pr(sys, "json");
    const added = sj && d.json ? sj.totalP50 - d.json.totalP50 : NaN;
    const ac = (s: SystemId) => cell(s, "json", 1)?.p50 ?? NaN;
    const acAdded = ac(sys) - ac("direct");
    target(
      "added p50 at 1 connection <= 0.5 ms",
      Number.isFinite(added) ? added <= 0.5 : undefined,
      `${fmt.signedMs(added)} ms (p50 ${fmt.ms(sj?.totalP50 ?? NaN, 3)} vs ${fmt.ms(d.json?.totalP50 ?? NaN, 3)} direct)` +
        (Number.isFinite(acAdded) ? `; autocannon at 1 conn: ${fmt.signedMs(acAdded)} ms` : ""),
    );
    const ss = pr(sys, "stream");
    const ttfb = ss && d.stream ? ss.ttfbP50 - d.stream.ttfbP50 : NaN;
    target("first streamed byte within 1 ms of the upstream's", Number.isFinite(ttfb) ? ttfb <= 1 : undefined, `${fmt.signedMs(ttfb)} ms (p50 ${fmt.ms(ss?.ttfbP50 ?? NaN, 3)} vs ${fmt.ms(d.stream?.ttfbP50 ?? NaN, 3)} direct)`);
    const mem = run.memory.find((m) => m.system === sys);
    target("RSS under load < 150 MiB", mem ? mem.loadMaxMiB < 150 : undefined, mem ? `${fmt.mib(mem.loadMaxMiB)} MiB max sampled (idle ${fmt.mib(mem.idleMiB)}, VmHWM ${fmt.mib(mem.hwmMiB)})` : "not measured");
  };
  const judged: Array<[SystemId, string]> = [
    ["stratum", "Stratum as configured by default, tracing into the local store included"],
    ["stratum-untraced", "Stratum without tracing: the issue's configuration (auth, rate limits, metrics, request logs)"],
  ];
  for (const [sys, title] of judged) {
    if (!systems.includes(sys)) continue;
    judge(sys);
    log();
    log(`Targets: ${title}; every figure from this run`);
    for (const t of run.targets.filter((x) => x.system === sys)) log(`  ${t.status.padEnd(4)}  ${t.name.padEnd(50)} ${t.value}`);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions();
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log("\ninterrupted: stopping child processes");
    void stopAll().finally(() => process.exit(130));
  });
  try {
    if (opts.soak) await runSoak(opts, await prepareRuntime(opts.runtime), ADMIN_KEY);
    else await bench(opts);
  } finally {
    await stopAll();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench/gateway failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
