import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { EvalRun, ItemResult } from "../types.js";
import { buildReport, evaluateGate, formatHtml, formatJson, formatTable, parseGate } from "./index.js";

function run(id: string, model: string, scores: number[], extra: Partial<ItemResult> = {}): EvalRun {
  const items: ItemResult[] = scores.map((s, i) => ({ id: `q${i}`, input: `question ${i} <b>`, expected: "x", output: s ? "x" : "<script>alert(1)</script>", metrics: { exact_match: s, token_f1: s, latency_ms: 10 + i }, latencyMs: 10 + i, ...extra }));
  return { id, createdAt: 1_700_000_000_000, model, baseUrl: "http://h", dataset: "d.jsonl", itemCount: items.length, errorCount: 0, durationMs: 1234, summary: {}, items };
}

const good = [1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1];
const worse = good.map((s, i) => (i % 2 === 0 ? 0 : s));

describe("reports", () => {
  test("one run: means with CIs; two runs: paired difference matched by item id", () => {
    const one = buildReport([run("a", "m1", good)]);
    const em = one.metrics.find((m) => m.metric === "exact_match")!;
    assert.equal(em.runs[0]!.mean, 17 / 20);
    assert.ok(em.runs[0]!.low <= 0.85 && em.runs[0]!.high >= 0.85);
    assert.equal(em.diff, undefined);
    assert.deepEqual(one.metrics.map((m) => m.metric), ["exact_match", "token_f1", "latency_ms"]);

    const b = run("b", "m2", worse);
    b.items.reverse(); // pairing is by id, not position
    const two = buildReport([run("a", "m1", good), b]);
    const d = two.metrics.find((m) => m.metric === "exact_match")!.diff!;
    assert.equal(d.n, 20);
    assert.ok(Math.abs(d.mean - (worse.reduce((x, y) => x + y, 0) - 17) / 20) < 1e-12);
    assert.ok(d.high < 0);
    assert.equal(two.items.length, 20);
    assert.equal(two.items[0]!.results.length, 2);
  });

  test("gate: parses rules, fails on a confident drop, passes on identical runs, fails on unmeasured metrics", () => {
    assert.deepEqual(parseGate("exact_match:-0.02, token_f1:-0.05"), [{ metric: "exact_match", threshold: -0.02 }, { metric: "token_f1", threshold: -0.05 }]);
    assert.throws(() => parseGate("exact_match"), /metric:threshold/);
    assert.throws(() => parseGate("exact_match:abc"), /metric:threshold/);
    assert.throws(() => parseGate(" , "), /empty/);
    const rules = parseGate("exact_match:-0.02,token_f1:-0.02");
    const failed = evaluateGate(buildReport([run("a", "m1", good), run("b", "m2", worse)]), rules);
    assert.equal(failed.passed, false);
    assert.ok(failed.checks.every((c) => !c.passed && c.diff!.high < -0.02));
    const same = evaluateGate(buildReport([run("a", "m1", good), run("b", "m1", good)]), rules);
    assert.equal(same.passed, true);
    const missing = evaluateGate(buildReport([run("a", "m1", good), run("b", "m1", good)]), parseGate("groundedness:-0.1"));
    assert.equal(missing.passed, false);
    assert.match(missing.checks[0]!.reason, /not measured/);
    assert.match(evaluateGate(buildReport([run("a", "m1", good)]), rules).checks[0]!.reason, /two runs/);
    // a small drop within the threshold passes: one item of 20 lost, threshold -0.5
    const slight = good.map((s, i) => (i === 0 ? 0 : s));
    assert.equal(evaluateGate(buildReport([run("a", "m1", good), run("b", "m2", slight)]), parseGate("exact_match:-0.5")).passed, true);
  });

  test("terminal table, JSON and self-contained HTML", () => {
    const report = buildReport([run("a", "m1", good), run("b", "m2", worse)]);
    report.gate = evaluateGate(report, parseGate("exact_match:-0.02"));
    const table = formatTable(report);
    assert.match(table, /exact_match\s+0\.850\s+0\.450\s+-0\.400\s+\[-0\.\d+, -0\.\d+\]\s+20/);
    assert.match(table, /gate: FAILED/);
    const json = JSON.parse(formatJson(report));
    assert.equal(json.runs.length, 2);
    assert.equal(json.gate.passed, false);
    assert.equal(json.metrics[0].metric, "exact_match");
    const html = formatHtml(report);
    assert.match(html, /^<!doctype html>/);
    assert.ok((html.match(/<svg /g) ?? []).length >= 2, "a scores chart and a latency chart");
    assert.match(html, /<path d="M[\d.]+ [\d.]+V/, "CI whiskers");
    assert.doesNotMatch(html, /<script|<link|src=|href=|@import|url\(/i, "no scripts or external assets");
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, "outputs are escaped");
    assert.match(html, /question 0 &lt;b&gt;/);
    assert.match(html, /Gate: <span class="neg">FAILED/);
    const single = formatHtml(buildReport([run("a", "m1", good)]));
    assert.match(single, /<svg /);
    assert.match(formatTable(buildReport([run("a", "m1", good)])), /exact_match\s+0\.850\s+\[/);
  });

  test("NaN statistics become null in JSON", () => {
    const r = run("a", "m1", [1]);
    r.items[0]!.metrics.groundedness = NaN;
    assert.doesNotMatch(formatJson(buildReport([r])), /NaN/);
  });
});
