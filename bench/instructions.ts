// bench/instructions: instructions a request on the request thread, counted
// by valgrind's callgrind, for Stratum at another revision (A), the working
// tree (B) and the bare node:http floor. CPU time on these shared 2-core VMs
// moves by 20-30 % between processes and phases (bench:compare's notes);
// instruction counts repeat within ~1 %, so a change of a few percent shows.
// They do not show what costs cycles without instructions (cache misses, the
// kernel), so confirm a win with bench:compare. See bench/README.md.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startScript } from "../src/testing/start-script.js";
import { bundleServers, RESULTS_DIR, ROOT_DIR } from "./lib/build.js";
import { loadCount } from "./lib/load.js";
import { startChild, stopAll, type Child } from "./lib/procs.js";
import { ADMIN_KEY, BODIES, modesOf, type Mode } from "./lib/requests.js";
import { buildRevision, commitOf, revisionOrUsage, sidesLine } from "./lib/revision.js";
import { table } from "./lib/stats.js";

const USAGE = `usage: npm run bench:instructions -- <git revision> [flags]

  --modes json,stream   request kinds (default both)
  --warmup N            requests before counting starts, so V8 has optimised the path (default 8000)
  --requests N          requests counted (default 3000)
  --connections N       connections (default 10)
  --floor on|off        also count the bare node:http proxy (default on)
  --tracing on|off      Stratum's local trace store (default off: the issue's configuration); with it
                        on, the trace write thread's own instructions are not in the figure
  --keep                keep callgrind's files (one per server, mode and thread) and print where, for
                        callgrind_annotate --inclusive=yes

Needs valgrind (apt-get install valgrind). Each server runs under callgrind, ~50x slower than
natively; a mode takes about a minute a server.
`;

const log = (s = "") => process.stdout.write(`${s}\n`);

interface Server {
  label: string;
  /** Node flags, script and args, without the upstream. */
  args: (upstream: string) => string[];
  env?: NodeJS.ProcessEnv;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      modes: { type: "string", default: "json,stream" },
      warmup: { type: "string", default: "8000" },
      requests: { type: "string", default: "3000" },
      connections: { type: "string", default: "10" },
      floor: { type: "string", default: "on" },
      tracing: { type: "string", default: "off" },
      keep: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const rev = revisionOrUsage(positionals[0], values.help, USAGE);
  const modes = modesOf(values.modes);
  const [warmup, requests, connections] = [values.warmup, values.requests, values.connections].map(Number) as [number, number, number];
  if (![warmup, requests, connections].every((n) => Number.isInteger(n) && n > 0)) throw new Error("--warmup, --requests and --connections take positive integers");
  if (values.floor !== "on" && values.floor !== "off") throw new Error(`--floor: on or off (got "${values.floor}")`);
  if (values.tracing !== "on" && values.tracing !== "off") throw new Error(`--tracing: on or off (got "${values.tracing}")`);
  const tracing = values.tracing;
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("valgrind is not installed (apt-get install valgrind)");
  }

  const commit = commitOf(rev);
  log(`bench/instructions  ${sidesLine(rev, commit)}`);
  log(`${modes.join(", ")}: ${warmup} requests to warm up, then ${requests} counted, at ${connections} connections; tracing ${tracing}`);

  const revision = await buildRevision(commit, ["stratum"]);
  const work = mkdtempSync(join(tmpdir(), "stratum-callgrind-"));
  try {
    const here = await bundleServers(ROOT_DIR, join(RESULTS_DIR, ".build"), ["sim", "stratum", "bare-proxy"]);
    // Both Stratum sides run with the working tree's `npm start` environment and node flags: the comparison is of the code.
    const start = startScript();
    const stratum = (label: string, dir: string): Server => ({
      label,
      args: (upstream) => [...start.nodeFlags, join(dir, "stratum.mjs"), "--upstream", upstream, "--admin-key", ADMIN_KEY, "--tracing", tracing],
      env: { ...start.env, BENCH_SAMPLE: "off" },
    });
    const servers: Server[] = [
      ...(values.floor === "on" ? [{ label: "floor", args: (upstream: string) => [join(here, "bare-proxy.mjs"), "--upstream", upstream] }] : []),
      stratum("A", revision.dir),
      stratum("B", here),
    ];
    const sim = await startChild({ name: "sim-upstream", nodeArgs: [join(here, "sim.mjs")] });
    const rows = [["mode", ...servers.map((s) => `${s.label} instr/req`), "B/A", ...(values.floor === "on" ? ["A/floor", "B/floor"] : [])]];
    for (const mode of modes) {
      const got: number[] = [];
      for (const s of servers) {
        const n = await count(s, sim.url, mode, { warmup, requests, connections }, join(work, `${s.label}-${mode}`));
        got.push(n);
        log(`  ${mode} ${s.label}: ${Math.round(n).toLocaleString("en-US")} instructions a request`);
      }
      const at = (label: string) => got[servers.findIndex((s) => s.label === label)]!;
      rows.push([
        mode,
        ...got.map((n) => Math.round(n).toLocaleString("en-US")),
        (at("B") / at("A")).toFixed(3),
        ...(values.floor === "on" ? [(at("A") / at("floor")).toFixed(2), (at("B") / at("floor")).toFixed(2)] : []),
      ]);
    }
    log();
    log("instr/req: instructions the process's busiest thread (the request thread) executed while the counted requests ran, over their number");
    log(table(rows));
  } finally {
    await stopAll();
    revision.remove();
    if (values.keep) log(`callgrind files kept in ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

/** Start `s` under callgrind with counting off, warm it up, count `requests` requests, and return the request thread's instructions per request. */
async function count(s: Server, upstream: string, mode: Mode, n: { warmup: number; requests: number; connections: number }, dir: string): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const child = await startChild({
    name: `${s.label} under callgrind`,
    wrapper: ["valgrind", "--tool=callgrind", "--separate-threads=yes", "--instr-atstart=no", `--callgrind-out-file=${join(dir, "callgrind.out")}`, `--log-file=${join(dir, "valgrind.log")}`],
    nodeArgs: s.args(upstream),
    env: s.env,
    readyTimeoutMs: 300_000,
  });
  const target = { url: child.url, path: "/v1/chat/completions", headers: { authorization: `Bearer ${ADMIN_KEY}` } };
  await drive(child, target, mode, n.connections, n.warmup);
  callgrind(child, "on");
  await drive(child, target, mode, n.connections, n.requests);
  callgrind(child, "off");
  await child.stop(120_000); // callgrind writes its counts as the process exits (slowly: give it time before a SIGKILL)
  // One file per thread; the request thread is the busiest.
  const totals = readdirSync(dir)
    .filter((f) => f.startsWith("callgrind.out"))
    .map((f) => Number(/^totals:\s*(\d+)/m.exec(readFileSync(join(dir, f), "utf8"))?.[1] ?? 0));
  const busiest = Math.max(0, ...totals);
  if (!busiest) throw new Error(`${s.label}: callgrind counted nothing (see ${join(dir, "valgrind.log")})`);
  return busiest / n.requests;
}

async function drive(child: Child, target: { url: string; path: string; headers: Record<string, string> }, mode: Mode, connections: number, amount: number): Promise<void> {
  const r = await loadCount(target, BODIES[mode], connections, amount);
  if (r.ok !== amount) throw new Error(`${child.name}: ${r.ok} of ${amount} requests succeeded (${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)`);
}

function callgrind(child: Child, instrumentation: "on" | "off"): void {
  execFileSync("callgrind_control", ["-i", instrumentation, String(child.pid)], { stdio: "ignore" });
}

main().catch(async (e: unknown) => {
  await stopAll();
  process.stderr.write(`bench/instructions failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
