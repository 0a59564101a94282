// Summarise a sampling heap profile written by bench/servers/heap-sampling.ts:
// bytes allocated per request, by allocating function and by source file or
// package (the same mapping as the CPU profile's summary).
import { readFileSync } from "node:fs";
import { moduleMap, where } from "./profile.js";

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Lines of text: allocation per request, top allocating frames and files/packages. */
export function summarizeHeapProfile(path: string, bundle?: string, top = 20): string[] {
  const { requests, profile } = JSON.parse(readFileSync(path, "utf8")) as { requests: number; profile: { head: HeapNode } };
  const fileOf = moduleMap(bundle);
  const byFrame = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    if (n.selfSize) {
      const cf = n.callFrame;
      const file = where(cf.url, cf.lineNumber, fileOf);
      const frame = `${cf.functionName || "(anonymous)"}  ${file}${cf.url && !cf.url.startsWith("node:") ? `:${cf.lineNumber + 1}` : ""}`;
      total += n.selfSize;
      byFrame.set(frame, (byFrame.get(frame) ?? 0) + n.selfSize);
      byFile.set(file, (byFile.get(file) ?? 0) + n.selfSize);
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const perReq = (b: number) => `${(b / Math.max(requests, 1) / 1024).toFixed(2).padStart(6)} KB`;
  const topOf = (m: Map<string, number>, k: number) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  const out = [
    `  ${(total / 1048576).toFixed(0)} MiB allocated over ${requests} requests: ${perReq(total).trim()} a request (sampled every 4 KiB, collected objects included;`,
    "  functions V8 inlined count towards the function they were inlined into; JSON.parse towards its caller)",
    "  per request by file / package:",
  ];
  for (const [f, b] of topOf(byFile, top)) out.push(`    ${perReq(b)}  ${f}`);
  out.push(`  per request by allocating function (top ${top}):`);
  for (const [f, b] of topOf(byFrame, top)) out.push(`    ${perReq(b)}  ${f}`);
  return out;
}
