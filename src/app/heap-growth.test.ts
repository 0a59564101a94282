// limitHeapGrowth must really change when V8 collects its old generation:
// the same allocation pattern (a live set, and objects that live long enough
// to be promoted, then die) runs in two fresh processes, with V8's own factor
// and with 50 %, and the old space's largest size is compared.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { compactHeap, limitHeapGrowth } from "./heap-growth.js";
import { parseConfig } from "../config/index.js";

const CHILD = `
import v8 from "node:v8";
import { limitHeapGrowth } from ${JSON.stringify(new URL("./heap-growth.ts", import.meta.url).href)};
limitHeapGrowth(Number(process.argv[1]));
const live = [];
for (let i = 0; i < 200_000; i++) live.push({ i, s: "x" + i });
const ring = new Array(200_000);
let max = 0;
for (let i = 0; i < 3_000_000; i++) {
  ring[i % ring.length] = { i, a: [i, i + 1] };
  if (i % 10_000 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === "old_space").space_size);
}
if (live.length !== 200_000) throw new Error("the live set must stay live to here");
process.stdout.write(String(max));
`;

function maxOldSpace(percent: number): number {
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", CHILD, String(percent)], { encoding: "utf8" });
  return Number(out.trim().split("\n").pop());
}

test("50 % growth keeps old space far smaller than V8's own factor under the same garbage", () => {
  const own = maxOldSpace(0);
  const limited = maxOldSpace(50);
  assert.ok(own > 0 && limited > 0);
  assert.ok(limited < own * 0.6, `old space peaked at ${(limited / 2 ** 20).toFixed(1)} MiB with 50 %, ${(own / 2 ** 20).toFixed(1)} MiB with V8's factor`);
});

test("bad values are refused: in code with a RangeError, in config naming the field", () => {
  assert.throws(() => limitHeapGrowth(-1), RangeError);
  assert.throws(() => limitHeapGrowth(1.5), RangeError);
  assert.doesNotThrow(() => limitHeapGrowth(0));
  for (const bad of [-1, 301, 2.5, "50"]) {
    assert.throws(() => parseConfig({ server: { heapGrowthPercent: bad } }), /server\.heapGrowthPercent/);
  }
  assert.equal(parseConfig({}).server.heapGrowthPercent, 20);
});

// In a fresh process: the tests' own runner may expose gc already.
const COMPACT_CHILD = `
import { PerformanceObserver, constants } from "node:perf_hooks";
import { runInNewContext } from "node:vm";
import { compactHeap } from ${JSON.stringify(new URL("./heap-growth.ts", import.meta.url).href)};
const kinds = [];
const obs = new PerformanceObserver((list) => { for (const e of list.getEntries()) kinds.push(e.detail.kind); });
obs.observe({ entryTypes: ["gc"] });
const majors = () => kinds.filter((k) => k === constants.NODE_PERFORMANCE_GC_MAJOR).length;
let garbage = [];
for (let i = 0; i < 300_000; i++) garbage.push({ i });
garbage = undefined;
await new Promise((r) => setTimeout(r, 100)); // the GCs of the allocation are reported
const before = majors();
compactHeap();
await new Promise((r) => setTimeout(r, 100));
obs.disconnect();
process.stdout.write(JSON.stringify({
  major: majors() - before,
  gcHere: typeof globalThis.gc,
  gcInNewContext: runInNewContext("typeof gc"),
}));
`;

test("compactHeap runs a full GC and leaves gc exposed nowhere", () => {
  const out = execFileSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", COMPACT_CHILD], { encoding: "utf8" });
  const r = JSON.parse(out.trim().split("\n").pop()!) as { major: number; gcHere: string; gcInNewContext: string };
  assert.ok(r.major >= 1, `no full GC while compactHeap ran: ${JSON.stringify(r)}`);
  assert.equal(r.gcHere, "undefined");
  assert.equal(r.gcInNewContext, "undefined", "a vm context made after compactHeap must not get gc");
});
