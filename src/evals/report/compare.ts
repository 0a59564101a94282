// Report model: per-metric means with bootstrap CIs for one or two runs, the
// paired difference (second − first) and the regression gate.
import { bootstrapMean, pairedBootstrap, type BootstrapOptions, type Interval } from "../bootstrap.js";
import { runSummary } from "../store.js";
import type { EvalRun, EvalRunSummary, ItemResult } from "../types.js";

const ORDER = ["exact_match", "token_f1", "contains", "fact_recall", "regex", "json_valid", "recall_at_k", "mrr", "ndcg_at_k", "groundedness", "error", "latency_ms", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd"];

export function metricOrder(names: Iterable<string>): string[] {
  const rank = (m: string) => {
    const i = ORDER.indexOf(m);
    return i < 0 ? ORDER.length : i;
  };
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export interface MetricRow {
  metric: string;
  /** One per run: mean of the items that have the metric, with its bootstrap CI. */
  runs: Interval[];
  /** With two runs: paired CI of mean(second − first) over the items both runs scored. */
  diff?: Interval;
}

export interface ItemRow {
  id: string;
  input: string;
  expected?: string;
  /** One per run (undefined when the run lacks the item). */
  results: Array<ItemResult | undefined>;
}

export interface EvalReport {
  runs: EvalRunSummary[];
  metrics: MetricRow[];
  items: ItemRow[];
  gate?: GateResult;
}

export function buildReport(runs: readonly EvalRun[], opts: BootstrapOptions = {}): EvalReport {
  if (runs.length === 0) throw new Error("a report needs at least one run");
  const names = metricOrder(runs.flatMap((r) => r.items.flatMap((i) => Object.keys(i.metrics))));
  const byId = runs.map((r) => new Map(r.items.map((i) => [i.id, i])));
  const metrics: MetricRow[] = names.map((metric) => {
    const row: MetricRow = {
      metric,
      runs: runs.map((r) => bootstrapMean(r.items.map((i) => i.metrics[metric]).filter((v): v is number => typeof v === "number" && Number.isFinite(v)), opts)),
    };
    if (runs.length >= 2) {
      const a: number[] = [];
      const b: number[] = [];
      for (const it of runs[0]!.items) {
        const x = it.metrics[metric];
        const y = byId[1]!.get(it.id)?.metrics[metric];
        if (typeof x === "number" && typeof y === "number" && Number.isFinite(x) && Number.isFinite(y)) {
          a.push(x);
          b.push(y);
        }
      }
      row.diff = pairedBootstrap(a, b, opts);
    }
    return row;
  });
  const ids: string[] = [];
  const seen = new Set<string>();
  for (const r of runs) for (const i of r.items) if (!seen.has(i.id)) {
    seen.add(i.id);
    ids.push(i.id);
  }
  const items: ItemRow[] = ids.map((id) => {
    const results = byId.map((m) => m.get(id));
    const first = results.find((r) => r !== undefined)!;
    return { id, input: first.input, ...(first.expected !== undefined ? { expected: first.expected } : {}), results };
  });
  return { runs: runs.map(runSummary), metrics, items };
}

export interface GateRule {
  metric: string;
  /** The largest tolerated change of the mean (second − first), usually negative: -0.02. */
  threshold: number;
}

export interface GateCheck extends GateRule {
  passed: boolean;
  diff?: Interval;
  reason: string;
}

export interface GateResult {
  passed: boolean;
  checks: GateCheck[];
}

/** "exact_match:-0.02,token_f1:-0.02" → rules. */
export function parseGate(spec: string): GateRule[] {
  const rules: GateRule[] = [];
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const at = part.lastIndexOf(":");
    const metric = at > 0 ? part.slice(0, at).trim() : "";
    const raw = at > 0 ? part.slice(at + 1).trim() : "";
    const threshold = Number(raw);
    if (!metric || raw === "" || !Number.isFinite(threshold)) throw new Error(`--gate expects metric:threshold[,metric:threshold...], got "${part}"`);
    rules.push({ metric, threshold });
  }
  if (rules.length === 0) throw new Error("--gate is empty");
  return rules;
}

/**
 * A rule fails when the metric's mean changes (second − first) by less than
 * the threshold with confidence: the upper bound of the difference's CI is
 * below it. A metric that was not measured on common items fails too.
 */
export function evaluateGate(report: EvalReport, rules: readonly GateRule[]): GateResult {
  const checks = rules.map((rule): GateCheck => {
    const row = report.metrics.find((m) => m.metric === rule.metric);
    if (!row?.diff) return { ...rule, passed: false, reason: report.runs.length < 2 ? "the gate needs two runs (--compare)" : `metric "${rule.metric}" was not measured` };
    const d = row.diff;
    if (d.n === 0) return { ...rule, passed: false, diff: d, reason: `metric "${rule.metric}" has no item scored by both runs` };
    const passed = !(d.high < rule.threshold);
    const ci = `${fmtSigned(d.mean)} [${fmtSigned(d.low)}, ${fmtSigned(d.high)}]`;
    return { ...rule, passed, diff: d, reason: passed ? `${ci} is not below ${fmtSigned(rule.threshold)}` : `${ci}: the change is below ${fmtSigned(rule.threshold)} (upper bound ${fmtSigned(d.high)})` };
  });
  return { passed: checks.every((c) => c.passed), checks };
}

export function fmtSigned(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  const s = fmtNum(Math.abs(x));
  return (x < 0 ? "-" : "+") + s;
}

export function fmtNum(x: number): string {
  if (!Number.isFinite(x)) return "n/a";
  const a = Math.abs(x);
  if (a !== 0 && a < 0.001) return x.toExponential(2);
  if (a >= 1000) return x.toFixed(0);
  if (a >= 100) return x.toFixed(1);
  return x.toFixed(3);
}
