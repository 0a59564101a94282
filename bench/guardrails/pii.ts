// PII detector quality and latency on presidio-research's synthetic dataset (Faker sentences with
// labelled spans), plus secrets-detector latency.
//
//   node --import tsx bench/guardrails/pii.ts            (datasets dir: $STRATUM_DATASETS or /work/shared/datasets)
//
// Matching: a predicted span counts as a true positive when it overlaps a gold span of the same
// (mapped) type; each gold span is matched at most once. Types the dataset has but the detector does
// not look for (PERSON, LOCATION, ...) are listed as needing a language model.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { PiiDetector } from "../../src/safety/pii/index.js";
import { SecretsDetector } from "../../src/safety/secrets/index.js";
import { percentile, table } from "../lib/stats.js";

export interface Row {
  entity: string;
  /** Gold spans / predicted spans / true positives; undefined when the entity is not detected. */
  gold: number;
  predicted?: number;
  tp?: number;
  precision?: number;
  recall?: number;
  f1?: number;
  /** p50 / p99 latency in ms per message (rows "latency:pii", "latency:secrets"). */
  p50Ms?: number;
  p99Ms?: number;
  note?: string;
}

interface Sample {
  full_text: string;
  spans: { entity_type: string; entity_value: string; start_position: number; end_position: number }[];
}

/** Dataset label → our entity type. */
export const LABEL_MAP: Readonly<Record<string, string>> = {
  EMAIL_ADDRESS: "EMAIL",
  PHONE_NUMBER: "PHONE",
  CREDIT_CARD: "CREDIT_CARD",
  IBAN_CODE: "IBAN",
  US_SSN: "US_SSN",
  IP_ADDRESS: "IP_ADDRESS",
};
const OURS = ["EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS"];

export interface BenchDetail {
  rows: Row[];
  /** Examples of misses and false positives per type, for diagnosis. */
  misses: Record<string, string[]>;
  falsePositives: Record<string, string[]>;
}

export async function benchPiiDetailed(datasetsDir: string): Promise<BenchDetail> {
  const file = join(datasetsDir, "pii-presidio-synth", "synth_dataset_v2.json");
  const data = JSON.parse(await readFile(file, "utf8")) as Sample[];
  const detector = new PiiDetector();
  const secrets = new SecretsDetector();

  const counts = new Map<string, { gold: number; pred: number; tpPred: number; tpGold: number }>();
  const c = (t: string) => counts.get(t) ?? (counts.set(t, { gold: 0, pred: 0, tpPred: 0, tpGold: 0 }), counts.get(t)!);
  const unmapped = new Map<string, number>();
  const misses: Record<string, string[]> = {};
  const falsePositives: Record<string, string[]> = {};
  const ctx = (text: string, s: number, e: number) =>
    `${text.slice(Math.max(0, s - 25), s)}⟦${text.slice(s, e)}⟧${text.slice(e, e + 15)}`.replace(/\n/g, "\\n");

  for (let i = 0; i < 200; i++) detector.detect(data[i % data.length]!.full_text); // warm-up (JIT, metadata)

  const lat: number[] = [];
  const latSecrets: number[] = [];
  for (const sample of data) {
    const text = sample.full_text;
    const t0 = performance.now();
    const preds = detector.detect(text);
    lat.push(performance.now() - t0);
    const t1 = performance.now();
    secrets.detect(text);
    latSecrets.push(performance.now() - t1);

    const gold = sample.spans.flatMap((s) => {
      const type = LABEL_MAP[s.entity_type];
      if (type === undefined) {
        unmapped.set(s.entity_type, (unmapped.get(s.entity_type) ?? 0) + 1);
        return [];
      }
      return [{ type, start: s.start_position, end: s.end_position, matched: false }];
    });
    for (const g of gold) c(g.type).gold++;
    for (const p of preds) {
      c(p.type).pred++;
      const hit = gold.find((g) => g.type === p.type && p.start! < g.end && g.start < p.end!);
      if (hit) {
        c(p.type).tpPred++;
        if (!hit.matched) { hit.matched = true; c(p.type).tpGold++; }
      } else {
        (falsePositives[p.type] ??= []).push(ctx(text, p.start!, p.end!));
      }
    }
    for (const g of gold) if (!g.matched) (misses[g.type] ??= []).push(ctx(text, g.start, g.end));
  }

  const rows: Row[] = OURS.map((entity) => {
    const k = c(entity);
    const precision = k.pred === 0 ? NaN : k.tpPred / k.pred;
    const recall = k.gold === 0 ? NaN : k.tpGold / k.gold;
    const f1 = 2 * precision * recall / (precision + recall);
    return { entity, gold: k.gold, predicted: k.pred, tp: k.tpGold, precision, recall, f1 };
  });
  for (const [entity, gold] of [...unmapped].sort((a, b) => b[1] - a[1])) {
    rows.push({ entity, gold, note: "not detected — needs a language model (pluggable AsyncDetector)" });
  }
  rows.push({ entity: "latency:pii", gold: data.length, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) });
  rows.push({ entity: "latency:secrets", gold: data.length, p50Ms: percentile(latSecrets, 50), p99Ms: percentile(latSecrets, 99) });
  return { rows, misses, falsePositives };
}

export async function benchPii(datasetsDir: string): Promise<Row[]> {
  return (await benchPiiDetailed(datasetsDir)).rows;
}

const f = (n: number | undefined, d = 3) => (n === undefined || !Number.isFinite(n) ? "-" : n.toFixed(d));

export function formatRows(rows: Row[]): string {
  const quality = rows.filter((r) => !r.entity.startsWith("latency:"));
  const latency = rows.filter((r) => r.entity.startsWith("latency:"));
  return [
    table([
      ["entity", "gold", "pred", "tp", "precision", "recall", "F1", "note"],
      ...quality.map((r) => [r.entity, String(r.gold), r.predicted === undefined ? "-" : String(r.predicted), r.tp === undefined ? "-" : String(r.tp), f(r.precision), f(r.recall), f(r.f1), r.note ?? ""]),
    ]),
    "",
    table([
      ["detector", "messages", "p50 ms", "p99 ms"],
      ...latency.map((r) => [r.entity.slice("latency:".length), String(r.gold), f(r.p50Ms, 4), f(r.p99Ms, 4)]),
    ]),
  ].join("\n");
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.env.STRATUM_DATASETS ?? "/work/shared/datasets";
  const { rows, misses, falsePositives } = await benchPiiDetailed(dir);
  console.log(`PII detector on ${join(dir, "pii-presidio-synth/synth_dataset_v2.json")} (span-overlap match)\n`);
  console.log(formatRows(rows));
  const verbose = process.argv.includes("--verbose");
  for (const t of OURS) {
    const m = misses[t] ?? [];
    const fp = falsePositives[t] ?? [];
    if (m.length === 0 && fp.length === 0) continue;
    console.log(`\n${t}: ${m.length} missed, ${fp.length} false positives`);
    for (const x of m.slice(0, verbose ? 1000 : 5)) console.log(`  miss  ${x}`);
    for (const x of fp.slice(0, verbose ? 1000 : 5)) console.log(`  fp    ${x}`);
  }
}
