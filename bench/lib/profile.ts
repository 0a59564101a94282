// Summarise a V8 .cpuprofile: self time by function and by source file or
// package. In the esbuild bundle, module boundaries are marked by
// "// src/x/y.ts" comments, which map bundle lines back to source files.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export function moduleMap(bundle: string | undefined): (line: number) => string | undefined {
  if (!bundle) return () => undefined;
  const marks: Array<{ line: number; file: string }> = [];
  readFileSync(bundle, "utf8")
    .split("\n")
    .forEach((l, i) => {
      const m = /^\/\/ ((?:src|bench)\/\S+\.ts)$/.exec(l);
      if (m) marks.push({ line: i, file: m[1]! });
    });
  return (line) => {
    let lo = 0;
    let hi = marks.length - 1;
    let found: string | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid]!.line <= line) {
        found = marks[mid]!.file;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
}

export function where(url: string, line: number, fileOf: (line: number) => string | undefined): string {
  if (!url) return "(native/internal)";
  if (url.startsWith("node:")) return url;
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  if (url.endsWith(".mjs") && url.includes("/results/.build/")) return fileOf(line) ?? url.slice(url.lastIndexOf("/") + 1);
  const src = /\/((?:src|bench)\/.*)$/.exec(url);
  return src ? src[1]! : url;
}

/** Lines of text: top self-time frames and files/packages, as % of non-idle samples. */
export function summarizeProfile(path: string, bundle?: string, top = 25): string[] {
  const p = JSON.parse(readFileSync(path, "utf8")) as Profile;
  const fileOf = moduleMap(bundle);
  const self = new Map<number, number>();
  if (p.samples && p.timeDeltas) {
    p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas![i] ?? 0)));
  } else {
    for (const n of p.nodes) self.set(n.id, n.hitCount ?? 0);
  }
  const byFrame = new Map<string, number>();
  const byFile = new Map<string, number>();
  let idle = 0;
  let total = 0;
  for (const n of p.nodes) {
    const t = self.get(n.id) ?? 0;
    if (!t) continue;
    const name = n.callFrame.functionName || "(anonymous)";
    if (name === "(idle)") {
      idle += t;
      continue;
    }
    total += t;
    const file = ["(program)", "(garbage collector)"].includes(name) ? name : where(n.callFrame.url, n.callFrame.lineNumber, fileOf);
    const frame = `${name}  ${file}${n.callFrame.url && !n.callFrame.url.startsWith("node:") ? `:${n.callFrame.lineNumber + 1}` : ""}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + t);
    byFile.set(file, (byFile.get(file) ?? 0) + t);
  }
  // Inclusive (total) time of frames in the project's own code: every sample
  // counts once for each distinct project frame on its stack.
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const node = new Map(p.nodes.map((n) => [n.id, n]));
  const inclusive = new Map<string, number>();
  for (const [id, t] of self) {
    if (!t || node.get(id)?.callFrame.functionName === "(idle)") continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = node.get(cur)!;
      const file = where(n.callFrame.url, n.callFrame.lineNumber, fileOf);
      if (!/^(src|bench)\//.test(file)) continue;
      const key = `${n.callFrame.functionName || "(anonymous)"}  ${file}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + t);
    }
  }
  const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)}%`;
  const topOf = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  const out = [
    `  busy ${(total / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s; percentages are of busy time. Syscall frames (writev, writeUtf8String)`,
    "  also collect time the thread spent descheduled after waking the peer process, so they overstate on-CPU cost on a busy machine.",
    "  self time by file / package:",
  ];
  for (const [f, t] of topOf(byFile, 20)) out.push(`    ${pct(t)}  ${f}`);
  out.push(`  top ${top} frames by self time:`);
  for (const [f, t] of topOf(byFrame, top)) out.push(`    ${pct(t)}  ${f}`);
  out.push(`  top ${top} project functions by total (inclusive) time:`);
  for (const [f, t] of topOf(inclusive, top)) out.push(`    ${pct(t)}  ${f}`);
  return out;
}
