// bench/compare: Stratum at another git revision (A) against the working
// tree (B), in the same minutes. Both are bundled and started side by side in
// front of one sim-upstream, each as several processes (--procs): one process
// can run 20-30 % slower than its twin for its whole life on these VMs (where
// it landed, not what it runs), so a single pair cannot resolve less. Load
// rounds alternate over all of them (A1 B1 A2 B2 ..., then backwards), so a
// slow phase of the machine hits both. Prints, per mode, each process's median
// CPU µs per request, the median of A's and of B's, and B/A. See bench/README.md.
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startScript, takeEnvAssignments } from "../src/testing/start-script.js";
import { bundleServers, RESULTS_DIR, ROOT_DIR } from "./lib/build.js";
import { load } from "./lib/load.js";
import { cpuSecondsOf, memOf, minorFaultsOf, startChild, stopAll, type Child } from "./lib/procs.js";
import { ADMIN_KEY, BODIES, MODEL, modesOf, uniqueBodies, type Mode } from "./lib/requests.js";
import { buildRevision, commitOf, revisionOrUsage, sidesLine } from "./lib/revision.js";
import { fmt, percentile, table } from "./lib/stats.js";

const USAGE = `usage: npm run bench:compare -- <git revision> [flags]

  --modes json,stream   request kinds (default both)
  --connections N       connections per load round (default 50)
  --rounds N            rounds per mode; each runs every process once (default 6)
  --procs N             processes per side (default 3): one process can be 20-30 % slower than its
                        twin for its whole life, so one pair cannot resolve less
  --seconds N           seconds per load (default 5)
  --tracing on|off      Stratum's local trace store (default off: the issue's configuration)
  --cache off|misses    misses: the response cache on (the default configuration) and a unique
                        prompt per request, so every request takes the cache-miss path
                        (default off: no cache, the same body every time)
  --b-node-flags="..."  extra node/V8 flags for B only, after the start script's (to compare V8
                        settings: give HEAD as the revision and leave the tree clean, so A and B
                        run the same code; to measure a flag the start script already gives,
                        pass its negation, e.g. --parallel-scavenge)
  --b-env="K=V ..."     extra environment for B only (e.g. MALLOC_ARENA_MAX=2), the same way
`;

const log = (s = "") => process.stdout.write(`${s}\n`);

type Side = "A" | "B";
const SIDES: readonly Side[] = ["A", "B"];

interface Round {
  usPerReq: number;
  rps: number;
  /** 99th percentile of the round's response times (autocannon), ms. */
  p99: number;
  faultsPerReq: number;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      modes: { type: "string", default: "json,stream" },
      connections: { type: "string", default: "50" },
      rounds: { type: "string", default: "6" },
      procs: { type: "string", default: "3" },
      seconds: { type: "string", default: "5" },
      tracing: { type: "string", default: "off" },
      cache: { type: "string", default: "off" },
      "b-node-flags": { type: "string", default: "" },
      "b-env": { type: "string", default: "" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const rev = revisionOrUsage(positionals[0], values.help, USAGE);
  const modes = modesOf(values.modes);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const procs = Number(values.procs);
  if (![connections, rounds, seconds, procs].every((n) => Number.isInteger(n) && n > 0)) throw new Error("--connections, --rounds, --seconds and --procs take positive integers");
  if (values.tracing !== "on" && values.tracing !== "off") throw new Error(`--tracing: on or off (got "${values.tracing}")`);
  if (values.cache !== "off" && values.cache !== "misses") throw new Error(`--cache: off or misses (got "${values.cache}")`);
  const misses = values.cache === "misses";
  const bodyOf = (mode: Mode) => (misses ? uniqueBodies(mode) : BODIES[mode]);

  const commit = commitOf(rev);
  log(`bench/compare  ${sidesLine(rev, commit)}`);
  const bFlags = values["b-node-flags"].split(/\s+/).filter(Boolean);
  const bEnv = parseEnv(values["b-env"]);
  const bExtra = [...Object.entries(bEnv).map(([k, v]) => `${k}=${v}`), ...bFlags];
  log(`${modes.join(", ")} at ${connections} connections, ${rounds} rounds of ${seconds} s per mode and process, ${procs} processes a side, tracing ${values.tracing}, cache ${values.cache}; servers as esbuild bundles${bExtra.length ? `; B runs with ${bExtra.join(" ")}` : ""}`);

  const revision = await buildRevision(commit, ["stratum"]);
  try {
    const dirs = {
      A: revision.dir,
      B: await bundleServers(ROOT_DIR, join(RESULTS_DIR, ".build"), ["sim", "stratum"]),
    };
    const sim = await startChild({ name: "sim-upstream", nodeArgs: [join(dirs.B, "sim.mjs")] });
    const servers: Record<Side, Child[]> = { A: [], B: [] };
    for (let i = 1; i <= procs; i++) {
      servers.A.push(await startStratum(`A${i}`, dirs.A, sim.url, values.tracing, misses));
      servers.B.push(await startStratum(`B${i}`, dirs.B, sim.url, values.tracing, misses, bFlags, bEnv));
    }
    const target = (c: Child) => ({ url: c.url, path: "/v1/chat/completions", headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    if (misses) for (const k of SIDES) for (const [i, c] of servers[k].entries()) await expectCacheMiss(`${k}${i + 1}`, target(c));
    // A1 B1 A2 B2 ...: each B process is paired with the A process next to it.
    const order = servers.A.flatMap((a, i) => [{ side: "A" as Side, i, c: a }, { side: "B" as Side, i, c: servers.B[i]! }]);

    const rows = [["mode", "A µs/req", "B µs/req", "B/A", "B/A paired", "A rps", "B rps", "A p99 ms", "B p99 ms", "A faults/req", "B faults/req", "A processes (µs/req)", "B processes (µs/req)"]];
    for (const mode of modes) {
      const body = bodyOf(mode);
      for (const { c } of order) await load(target(c), body, connections, 3); // warm-up
      // got[side][process][round]
      const got: Record<Side, Round[][]> = { A: servers.A.map(() => []), B: servers.B.map(() => []) };
      for (let r = 0; r < rounds; r++) {
        for (const { side, i, c } of r % 2 ? [...order].reverse() : order) {
          const cpu0 = cpuSecondsOf(c.pid);
          const faults0 = minorFaultsOf(c.pid);
          const res = await load(target(c), body, connections, seconds);
          if (res.non2xx || res.errors) throw new Error(`${side}${i + 1}: ${res.non2xx} non-2xx responses and ${res.errors} errors in a ${mode} round`);
          const round = { usPerReq: ((cpuSecondsOf(c.pid) - cpu0) / res.ok) * 1e6, rps: res.rps, p99: res.p99, faultsPerReq: (minorFaultsOf(c.pid) - faults0) / res.ok };
          got[side][i]!.push(round);
          log(`  ${mode} round ${r + 1}/${rounds} ${side}${i + 1}: ${fmt.int(round.rps)} rps, ${round.usPerReq.toFixed(1)} µs/req`);
        }
      }
      // A side's figure: the median of its processes' medians over rounds.
      const perProcess = (k: Side, f: (x: Round) => number) => got[k].map((rs) => percentile(rs.map(f), 50));
      const med = (k: Side, f: (x: Round) => number) => percentile(perProcess(k, f), 50);
      const a = med("A", (x) => x.usPerReq);
      const b = med("B", (x) => x.usPerReq);
      // Each round's B against the A measured right beside it: robust to the machine changing speed mid-run.
      const paired = percentile(got.B.flatMap((rs, i) => rs.map((x, r) => x.usPerReq / got.A[i]![r]!.usPerReq)), 50);
      const each = (k: Side) => perProcess(k, (x) => x.usPerReq).map((v) => v.toFixed(0)).join(" ");
      rows.push([mode, a.toFixed(1), b.toFixed(1), (b / a).toFixed(3), paired.toFixed(3), fmt.int(med("A", (x) => x.rps)), fmt.int(med("B", (x) => x.rps)), med("A", (x) => x.p99).toFixed(2), med("B", (x) => x.p99).toFixed(2), med("A", (x) => x.faultsPerReq).toFixed(2), med("B", (x) => x.faultsPerReq).toFixed(2), each("A"), each("B")]);
    }
    log();
    log("A, B µs/req: the median over each side's processes of each process's median CPU µs per request over rounds; B/A below 1: the working tree costs less;");
    log("B/A paired: the median over rounds and process pairs of B's figure over its paired A's in the same round (trust it when the machine's speed drifts);");
    log("processes: each process's own median: a side whose processes disagree by 20 % shows the placement effect this tool averages out;");
    log("p99 ms: the median of each round's 99th-percentile response time (GC settings trade pause time for CPU);");
    log("faults/req: minor page faults per request (pages the kernel mapped for the process; the allocator giving memory back and taking it again shows here)");
    log(table(rows));
    const peaks = (k: Side) => servers[k].map((c) => memOf(c.pid)?.hwm.toFixed(1)).join(", ");
    log(`Peak RSS (VmHWM), MiB: A ${peaks("A")}; B ${peaks("B")} (when V8 runs its full GCs decides this; ±40 MiB run to run)`);
  } finally {
    await stopAll();
    revision.remove();
  }
}

/** A revision whose bench server predates `--cache` runs without the cache: say so instead of comparing unlike paths. */
async function expectCacheMiss(name: string, t: { url: string; path: string; headers: Record<string, string> }): Promise<void> {
  const body = JSON.stringify({ model: MODEL, messages: [{ role: "user", content: `cache check ${name}` }], max_tokens: 4 });
  const r = await fetch(new URL(t.path, t.url), { method: "POST", headers: { ...t.headers, "content-type": "application/json" }, body });
  await r.text();
  const status = r.headers.get("x-stratum-cache");
  if (status !== "miss") throw new Error(`${name}: a unique prompt was answered with x-stratum-cache: ${status} (not "miss"): its bench server does not take --cache`);
}

function startStratum(name: string, dir: string, upstream: string, tracing: string, cache: boolean, extraFlags: string[] = [], extraEnv: Record<string, string> = {}): Promise<Child> {
  // BENCH_SAMPLE=off: no first-start docs ingest, so both start from the same state.
  // Both run with the working tree's `npm start` environment and node flags: the comparison is of the code.
  const start = startScript();
  return startChild({
    name,
    nodeArgs: [...start.nodeFlags, ...extraFlags, join(dir, "stratum.mjs"), "--upstream", upstream, "--admin-key", ADMIN_KEY, "--tracing", tracing, "--cache", cache ? "on" : "off"],
    env: { ...start.env, ...extraEnv, BENCH_SAMPLE: "off" },
  });
}

/** "K=V K2=V2" → { K: "V", K2: "V2" }. */
function parseEnv(text: string): Record<string, string> {
  const { env, rest } = takeEnvAssignments(text.split(/\s+/).filter(Boolean));
  if (rest.length) throw new Error(`--b-env: "${rest[0]}" is not NAME=value`);
  return env;
}

main().catch(async (e: unknown) => {
  await stopAll();
  process.stderr.write(`bench/compare failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
