// JSON report (NaN/Infinity become null).
import type { EvalReport } from "./compare.js";

export function formatJson(report: EvalReport): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === "number" && !Number.isFinite(v) ? null : v), 2) + "\n";
}
