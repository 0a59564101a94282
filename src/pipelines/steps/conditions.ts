// Evaluates a parsed branch condition (config/step-condition.ts) against the
// run's variables. A variable a skipped or not-yet-run step did not set is
// missing: every comparison with it is false, and it is falsy.
import type { Condition, Operand } from "../../config/step-condition.js";
import type { StepType } from "../../config/pipeline-steps.js";
import { KIND_PREFIX } from "../../config/pipeline-steps.js";
import type { RunState, Value } from "./types.js";

export interface Evaluation {
  result: boolean;
  /** Each variable read and its value (null when missing): reported with the branch decision. */
  values: Record<string, Value | null>;
}

export function lookup(st: Pick<RunState, "byStep" | "byType">, name: string): Value | undefined {
  const dot = name.indexOf(".");
  const prefix = name.slice(0, dot);
  const field = name.slice(dot + 1);
  const own = st.byStep.get(prefix);
  if (own) return own[field];
  const kind = KIND_PREFIX[prefix] as StepType | undefined;
  return kind ? st.byType.get(kind)?.[field] : undefined;
}

export function evaluate(cond: Condition, st: Pick<RunState, "byStep" | "byType">): Evaluation {
  const values: Record<string, Value | null> = {};
  const value = (o: Operand): Value | undefined => {
    if ("lit" in o) return o.lit;
    const v = lookup(st, o.var);
    values[o.var] = v ?? null;
    return v;
  };
  const run = (c: Condition): boolean => {
    switch (c.k) {
      case "or":
        return run(c.a) || run(c.b);
      case "and":
        return run(c.a) && run(c.b);
      case "not":
        return !run(c.a);
      case "truthy":
        return Boolean(value(c.v));
      case "cmp": {
        const l = value(c.left);
        const r = value(c.right);
        if (l === undefined || r === undefined) return false;
        if (c.op === "==") return l === r;
        if (c.op === "!=") return l !== r;
        if (typeof l !== "number" || typeof r !== "number") return false;
        return c.op === "<" ? l < r : c.op === "<=" ? l <= r : c.op === ">" ? l > r : l >= r;
      }
    }
  };
  return { result: run(cond), values };
}
