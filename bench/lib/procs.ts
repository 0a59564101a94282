// Child processes for the systems under test: spawn, wait for the ready
// line, read memory and CPU from /proc, stop (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

export interface Child {
  name: string;
  pid: number;
  url: string;
  proc: ChildProcess;
  /** Last lines of stderr (for error messages). */
  stderrTail: string[];
  /** Resolves with the next JSON line on stdout that has `key`. */
  nextLine(key: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<Child>();

export interface SpawnSpec {
  name: string;
  /** Node flags, then the script, then its args. */
  nodeArgs: string[];
  /** A program that runs node (e.g. valgrind and its options): started with node's path and `nodeArgs` after `wrapper`'s own. */
  wrapper?: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  readyTimeoutMs?: number;
}

/** Start a node child and wait for its `{"ready":true,"url":...}` line. */
export async function startChild(spec: SpawnSpec): Promise<Child> {
  const [command, ...args] = spec.wrapper?.length ? [...spec.wrapper, process.execPath, ...spec.nodeArgs] : [process.execPath, ...spec.nodeArgs];
  const proc = spawn(command!, args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderrTail: string[] = [];
  createInterface({ input: proc.stderr! }).on("line", (l) => {
    stderrTail.push(l);
    if (stderrTail.length > 40) stderrTail.shift();
  });
  const waiters: Array<{ key: string; resolve: (v: Record<string, unknown>) => void }> = [];
  let onReady: ((url: string) => void) | undefined;
  createInterface({ input: proc.stdout! }).on("line", (l) => {
    if (!l.startsWith("{")) return;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(l) as Record<string, unknown>;
    } catch {
      return;
    }
    if (obj.ready === true && typeof obj.url === "string") onReady?.(obj.url);
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i]!.key in obj) {
        waiters.splice(i, 1)[0]!.resolve(obj);
        break;
      }
    }
  });

  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const child: Child = {
    name: spec.name,
    pid: proc.pid ?? -1,
    url: "",
    proc,
    stderrTail,
    nextLine(key, timeoutMs = 5_000) {
      return new Promise((resolve, reject) => {
        const w = { key, resolve: (v: Record<string, unknown>) => (clearTimeout(t), resolve(v)) };
        const t = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`${spec.name}: no "${key}" line within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    async stop(graceMs = 5_000) {
      live.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  live.add(child);

  try {
    child.url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${spec.name} did not report ready within ${spec.readyTimeoutMs ?? 30_000} ms`)), spec.readyTimeoutMs ?? 30_000);
      onReady = (url) => (clearTimeout(t), resolve(url));
      proc.once("exit", (code, signal) => (clearTimeout(t), reject(new Error(`${spec.name} exited before it was ready (code ${code}, signal ${signal})`))));
      proc.once("error", (e) => (clearTimeout(t), reject(e)));
    });
  } catch (e) {
    await child.stop();
    const tail = stderrTail.length ? `\n--- ${spec.name} stderr ---\n${stderrTail.join("\n")}` : "";
    throw new Error(`${(e as Error).message}${tail}`);
  }
  if (!/^http:\/\/(127\.0\.0\.1|localhost|\[::1\]):\d+/.test(child.url)) {
    await child.stop();
    throw new Error(`${spec.name} reported a non-loopback URL: ${child.url}`);
  }
  return child;
}

/** Stop every child still running (used in finally blocks and on SIGINT). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop().catch(() => {})));
}

// ------------------------------------------------------------------ /proc ---

const MiB = 1024 * 1024;

/** Resident and peak-resident memory of a process, in MiB (from /proc/PID/status). */
/** VmRSS and its parts: anonymous memory (heap, buffers) and file-backed pages (mmapped SQLite, code). */
export function memOf(pid: number): { rss: number; hwm: number; anon: number; file: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(s)?.[1] ?? NaN);
    return { rss: (kb("VmRSS") * 1024) / MiB, hwm: (kb("VmHWM") * 1024) / MiB, anon: (kb("RssAnon") * 1024) / MiB, file: (kb("RssFile") * 1024) / MiB };
  } catch {
    return undefined;
  }
}

let clkTck = 0;
function clk(): number {
  if (!clkTck) {
    try {
      clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** User+system CPU seconds a process has used so far (from /proc/PID/stat). */
export function cpuSecondsOf(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[11]) + Number(f[12])) / clk() : NaN; // utime, stime (fields 14, 15)
}

/** Minor page faults of a process so far (each is a page the kernel had to map, often zeroed, for it). */
export function minorFaultsOf(pid: number): number {
  const f = statFields(pid);
  return f ? Number(f[7]) : NaN; // minflt (field 10)
}

/** /proc/PID/stat from field 3 on (index 0 = field 3), or undefined once the process is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields after it are fixed.
    return s.slice(s.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** Samples RSS of some processes until stopped; returns the max per pid. */
export function sampleRss(pids: number[], everyMs = 200): () => Map<number, number> {
  const max = new Map<number, number>();
  const take = () => {
    for (const pid of pids) {
      const m = memOf(pid);
      if (m) max.set(pid, Math.max(max.get(pid) ?? 0, m.rss));
    }
  };
  take();
  const t = setInterval(take, everyMs);
  return () => {
    clearInterval(t);
    take();
    return max;
  };
}

/** Busy CPU seconds of the whole machine so far (all cores; from /proc/stat). */
export function machineBusySeconds(): number {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + (f[7] ?? 0);
    return busy / clk();
  } catch {
    return NaN;
  }
}
