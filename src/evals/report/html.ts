// Self-contained HTML report: inline CSS and SVG, no external assets.
// Bar charts of metric means per run with CI whiskers, the comparison table,
// the gate, and a per-item table.
import { fmtNum, fmtSigned, type EvalReport, type MetricRow } from "./compare.js";

const COLORS = ["#3b6fd8", "#e07b39", "#3aa66b", "#a34fc6"];
/** Metrics in [0, 1] share one chart; the others each get their own scale. */
const UNIT = new Set(["exact_match", "token_f1", "contains", "fact_recall", "regex", "json_valid", "recall_at_k", "mrr", "ndcg_at_k", "groundedness", "error"]);

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function num(x: number): string {
  return Number.isFinite(x) ? (Math.round(x * 100) / 100).toString() : "0";
}

/** Grouped bar chart: one group per metric, one bar per run, whiskers from each run's CI. */
export function barChart(title: string, rows: readonly MetricRow[], runLabels: readonly string[], maxValue?: number): string {
  const groupW = Math.max(60, runLabels.length * 26 + 24);
  const left = 48;
  const top = 28;
  const plotH = 160;
  const width = left + rows.length * groupW + 16;
  const height = top + plotH + 48;
  const max = maxValue ?? Math.max(1e-9, ...rows.flatMap((r) => r.runs.map((i) => (Number.isFinite(i.high) ? i.high : Number.isFinite(i.mean) ? i.mean : 0)))) * 1.1;
  const y = (v: number) => top + plotH - (Math.max(0, Math.min(v, max)) / max) * plotH;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(title)}">`);
  parts.push(`<text x="${left}" y="16" class="t">${escapeHtml(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const v = (max * i) / 4;
    parts.push(`<line x1="${left}" x2="${width - 8}" y1="${num(y(v))}" y2="${num(y(v))}" class="grid"/><text x="${left - 4}" y="${num(y(v) + 4)}" text-anchor="end" class="ax">${escapeHtml(fmtNum(v))}</text>`);
  }
  rows.forEach((row, g) => {
    const gx = left + g * groupW + 12;
    row.runs.forEach((ci, r) => {
      const x = gx + r * 26;
      const m = Number.isFinite(ci.mean) ? ci.mean : 0;
      parts.push(`<rect x="${x}" y="${num(y(m))}" width="20" height="${num(top + plotH - y(m))}" fill="${COLORS[r % COLORS.length]}"><title>${escapeHtml(`${runLabels[r]} ${row.metric}: ${fmtNum(ci.mean)} [${fmtNum(ci.low)}, ${fmtNum(ci.high)}] n=${ci.n}`)}</title></rect>`);
      if (Number.isFinite(ci.low) && Number.isFinite(ci.high)) {
        const cx = x + 10;
        parts.push(`<path d="M${cx} ${num(y(ci.low))}V${num(y(ci.high))}M${cx - 5} ${num(y(ci.low))}H${cx + 5}M${cx - 5} ${num(y(ci.high))}H${cx + 5}" class="wh"/>`);
      }
    });
    parts.push(`<text x="${gx + (row.runs.length * 26 - 6) / 2}" y="${top + plotH + 16}" text-anchor="middle" class="ax">${escapeHtml(row.metric)}</text>`);
  });
  parts.push(`<line x1="${left}" x2="${width - 8}" y1="${top + plotH}" y2="${top + plotH}" class="axis"/>`);
  runLabels.forEach((l, r) => {
    parts.push(`<rect x="${left + r * 140}" y="${height - 14}" width="10" height="10" fill="${COLORS[r % COLORS.length]}"/><text x="${left + r * 140 + 14}" y="${height - 5}" class="ax">${escapeHtml(l)}</text>`);
  });
  parts.push("</svg>");
  return parts.join("");
}

export function formatHtml(report: EvalReport): string {
  const two = report.runs.length >= 2;
  const labels = report.runs.map((r, i) => `${two ? (i === 0 ? "A: " : "B: ") : ""}${r.model}`);
  const unit = report.metrics.filter((m) => UNIT.has(m.metric));
  const other = report.metrics.filter((m) => !UNIT.has(m.metric));
  const charts = [unit.length ? barChart("Scores (mean, 95% CI)", unit, labels, 1) : "", ...other.map((m) => barChart(m.metric, [m], labels))].filter(Boolean).join("\n");
  const head = ["metric", ...labels, ...(two ? ["B − A", "95% CI", "n"] : ["95% CI", "n"])];
  const metricRows = report.metrics
    .map((m) => {
      const cells = [escapeHtml(m.metric), ...m.runs.map((r) => fmtNum(r.mean))];
      if (two && m.diff) {
        const cls = m.diff.high < 0 ? "neg" : m.diff.low > 0 ? "pos" : "";
        cells.push(`<span class="${cls}">${fmtSigned(m.diff.mean)}</span>`, `[${fmtSigned(m.diff.low)}, ${fmtSigned(m.diff.high)}]`, String(m.diff.n));
      } else cells.push(`[${fmtNum(m.runs[0]!.low)}, ${fmtNum(m.runs[0]!.high)}]`, String(m.runs[0]!.n));
      return `<tr>${cells.map((c, i) => `<td${i ? ' class="n"' : ""}>${c}</td>`).join("")}</tr>`;
    })
    .join("\n");
  const gate = report.gate
    ? `<h2>Gate: <span class="${report.gate.passed ? "pos" : "neg"}">${report.gate.passed ? "passed" : "FAILED"}</span></h2><ul>${report.gate.checks.map((c) => `<li class="${c.passed ? "pos" : "neg"}">${escapeHtml(`${c.passed ? "ok" : "FAIL"} ${c.metric} ≥ ${fmtSigned(c.threshold)}: ${c.reason}`)}</li>`).join("")}</ul>`
    : "";
  const shown = ["exact_match", "token_f1", "contains", "recall_at_k", "groundedness", "latency_ms"].filter((k) => report.metrics.some((m) => m.metric === k));
  const itemRows = report.items
    .map((it) => {
      const cells = [`<td>${escapeHtml(it.id)}</td>`, `<td class="txt">${escapeHtml(it.input)}</td>`, `<td class="txt">${escapeHtml(it.expected ?? "")}</td>`];
      for (const r of it.results) {
        cells.push(`<td class="txt">${r ? (r.error ? `<span class="neg">error: ${escapeHtml(r.error)}</span>` : escapeHtml(r.output)) : "—"}</td>`);
        cells.push(`<td class="n">${shown.map((k) => (r && r.metrics[k] !== undefined ? `${escapeHtml(k)} ${fmtNum(r.metrics[k]!)}` : "")).filter(Boolean).join("<br>")}</td>`);
      }
      return `<tr>${cells.join("")}</tr>`;
    })
    .join("\n");
  const runs = report.runs
    .map((r, i) => `<li>${escapeHtml(labels[i]!)} — run <code>${escapeHtml(r.id)}</code>, ${r.itemCount} items, ${r.errorCount} errors, ${(r.durationMs / 1000).toFixed(1)} s, dataset ${escapeHtml(r.dataset || "—")}, ${escapeHtml(new Date(r.createdAt).toISOString())}</li>`)
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stratum eval report</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #ddd;padding:4px 8px;vertical-align:top}th{background:#f4f4f4}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.txt{max-width:420px;white-space:pre-wrap}
.neg{color:#b3261e}.pos{color:#1e7b34}svg{margin:8px 16px 8px 0}
svg .t{font:600 13px system-ui,sans-serif}svg .ax{font:11px system-ui,sans-serif;fill:#444}svg .grid{stroke:#eee}svg .axis{stroke:#888}svg .wh{stroke:#222;stroke-width:1.5;fill:none}
</style></head><body>
<h1>Stratum eval report</h1>
<ul>${runs}</ul>
${gate}
<div>${charts}</div>
<h2>Metrics</h2>
<table><thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>
${metricRows}
</tbody></table>
<h2>Items</h2>
<table><thead><tr><th>id</th><th>input</th><th>expected</th>${labels.map((l) => `<th>${escapeHtml(l)}</th><th>metrics</th>`).join("")}</tr></thead><tbody>
${itemRows}
</tbody></table>
</body></html>
`;
}
