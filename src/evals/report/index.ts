export { buildReport, parseGate, evaluateGate, metricOrder, fmtNum, fmtSigned, type EvalReport, type MetricRow, type ItemRow, type GateRule, type GateCheck, type GateResult } from "./compare.js";
export { formatTable } from "./table.js";
export { formatJson } from "./json.js";
export { formatHtml, barChart, escapeHtml } from "./html.js";
