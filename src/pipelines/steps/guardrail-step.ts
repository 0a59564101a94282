// guardrail: the pipeline's input guardrails on the question at this point;
// a block refuses the request (400) or, with onBlock: continue, is recorded
// for a branch to act on.
import type { StepOf } from "../../config/pipeline-steps.js";
import { isStratumError } from "../../core/errors.js";
import { RunStop, type StepHandler } from "./types.js";

const SEVERITY = { allow: 0, flag: 1, redact: 2, block: 3 } as const;

export const guardrailStep: StepHandler<StepOf<"guardrail">> = async (step, st) => {
  if (!st.guard) return { vars: { action: "allow", blocked: false, flagged: false }, detail: { guardrails: "none configured" } };
  const from = st.guard.decisions.length;
  let blocked = false;
  try {
    const checked = st.guard.input(st.question);
    if (st.query === st.question) st.query = checked;
    st.question = checked;
  } catch (e) {
    if (!isStratumError(e) || e.kind !== "GuardrailBlocked") throw e;
    if (step.onBlock === "refuse") throw new RunStop(e);
    blocked = true;
  }
  const decisions = st.guard.decisions.slice(from).filter((d) => d.stage === "input");
  const action = decisions.reduce<keyof typeof SEVERITY>((a, d) => (SEVERITY[d.action] > SEVERITY[a] ? d.action : a), "allow");
  const flagged = decisions.some((d) => d.action === "flag");
  return { vars: { action, blocked, flagged }, detail: { action, guardrails: decisions.map((d) => d.guardrail) } };
};
