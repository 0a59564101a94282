// branch: the first `when` whose condition holds decides where the run goes;
// the decision is reported with every value that drove it.
import type { StepOf } from "../../config/pipeline-steps.js";
import { parseCondition, type Condition } from "../../config/step-condition.js";
import { StratumError } from "../../core/errors.js";
import { evaluate } from "./conditions.js";
import type { RunState, StepResult, Value } from "./types.js";

const parsed = new Map<string, Condition>();

/** Conditions were checked when the config loaded; parsing again is cheap and cached. */
function conditionOf(src: string): Condition {
  let c = parsed.get(src);
  if (!c) {
    const p = parseCondition(src);
    if (!p.ok) throw new StratumError("Internal", `branch condition "${src}": ${p.error}`);
    c = p.cond;
    parsed.set(src, c);
  }
  return c;
}

export function branchStep(step: StepOf<"branch">, st: RunState): StepResult {
  const checked: Array<{ if: string; result: boolean; values: Record<string, Value | null> }> = [];
  for (const w of step.when) {
    const ev = evaluate(conditionOf(w.if), st);
    checked.push({ if: w.if, result: ev.result, values: ev.values });
    if (ev.result) return { goto: w.goto, detail: { decision: { if: w.if, values: ev.values, goto: w.goto }, checked } };
  }
  return { ...(step.else !== undefined ? { goto: step.else } : {}), detail: { decision: { if: null, goto: step.else ?? step.next ?? null }, checked } };
}
