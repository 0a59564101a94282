// Terminal table: metric, mean(s), and with two runs the difference and its CI.
import { fmtNum, fmtSigned, type EvalReport } from "./compare.js";

export function formatTable(report: EvalReport): string {
  const two = report.runs.length >= 2;
  const head = two
    ? ["metric", `${report.runs[0]!.model} (A)`, `${report.runs[1]!.model} (B)`, "B − A", `${Math.round((report.metrics[0]?.diff?.confidence ?? 0.95) * 100)}% CI`, "n"]
    : ["metric", "mean", `${Math.round((report.metrics[0]?.runs[0]?.confidence ?? 0.95) * 100)}% CI`, "n"];
  const rows = report.metrics.map((m) =>
    two
      ? [m.metric, fmtNum(m.runs[0]!.mean), fmtNum(m.runs[1]!.mean), fmtSigned(m.diff!.mean), `[${fmtSigned(m.diff!.low)}, ${fmtSigned(m.diff!.high)}]`, String(m.diff!.n)]
      : [m.metric, fmtNum(m.runs[0]!.mean), `[${fmtNum(m.runs[0]!.low)}, ${fmtNum(m.runs[0]!.high)}]`, String(m.runs[0]!.n)],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const out: string[] = [];
  for (const [i, r] of report.runs.entries()) {
    out.push(`${two ? (i === 0 ? "A" : "B") + ": " : ""}run ${r.id}  model ${r.model}  ${r.itemCount} items, ${r.errorCount} errors, ${(r.durationMs / 1000).toFixed(1)} s`);
  }
  out.push("", line(head), widths.map((w) => "─".repeat(w)).join("  "), ...rows.map(line));
  if (report.gate) {
    out.push("", `gate: ${report.gate.passed ? "passed" : "FAILED"}`);
    for (const c of report.gate.checks) out.push(`  ${c.passed ? "ok  " : "FAIL"} ${c.metric} ≥ ${fmtSigned(c.threshold)}: ${c.reason}`);
  }
  return out.join("\n") + "\n";
}
