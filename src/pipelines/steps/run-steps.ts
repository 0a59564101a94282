// Walks a step list: each step runs in its own span (`pipeline.step.<id>`)
// within its time budget; success goes to `next` (or the branch's goto),
// failure or an overrun takes the step's fallback. Every step lands in
// `st.records` with its outcome, duration and the fallback taken.
import { ROOT_CONTEXT, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import { ABSTAIN, END, type StepConfig, type StepOf, type StepType } from "../../config/pipeline-steps.js";
import { isStratumError, StratumError } from "../../core/errors.js";
import { NOT_IN_DOCUMENTS } from "../answers.js";
import { answerStep, extractiveAnswer } from "./answer-step.js";
import { branchStep } from "./branch-step.js";
import { withinBudget, type Budgeted } from "./budget.js";
import { classifyStep } from "./classify-step.js";
import { guardrailStep } from "./guardrail-step.js";
import { retrieveStep } from "./retrieve-step.js";
import { rewriteStep } from "./rewrite-step.js";
import { RunStop, StepFailure, type RunState, type StepEnv, type StepHandler, type StepRecord, type StepResult } from "./types.js";
import { verifyGroundingStep } from "./verify-step.js";

/** A run never executes more steps than this, whatever the config (cycles are bounded by maxVisits anyway). */
const MAX_STEPS_PER_RUN = 256;

const HANDLERS: { [T in Exclude<StepType, "branch" | "abstain">]: StepHandler<StepOf<T>> } = {
  rewrite: rewriteStep,
  retrieve: retrieveStep,
  classify: classifyStep,
  guardrail: guardrailStep,
  answer: answerStep,
  verify_grounding: verifyGroundingStep,
};

export async function runSteps(st: RunState, env: StepEnv): Promise<void> {
  const steps = env.cfg.steps;
  const index = new Map(steps.map((s, i) => [s.id, i]));
  const visits = new Map<string, number>();
  const tracer = trace.getTracer("stratum");
  let at = 0;
  for (let executed = 1; at < steps.length; executed++) {
    if (executed > MAX_STEPS_PER_RUN) throw new StratumError("Internal", `pipeline "${env.name}" ran more than ${MAX_STEPS_PER_RUN} steps`);
    const step = steps[at]!;
    const visit = (visits.get(step.id) ?? 0) + 1;
    visits.set(step.id, visit);
    const to = await inStepSpan(tracer.startSpan(`pipeline.step.${step.id}`, {}, st.ctx.trace ?? ROOT_CONTEXT), st, (span) => runOne(step, visit, st, env, span));
    const following = steps[at + 1]?.id ?? END;
    const record = st.records[st.records.length - 1]!;
    record.next = to ?? following;
    if (to === END) break;
    if (to === ABSTAIN && !index.has(ABSTAIN)) {
      st.abstained = { text: NOT_IN_DOCUMENTS, by: step.id };
      break;
    }
    at = to === undefined ? at + 1 : index.get(to)!;
  }
}

/**
 * While a step runs, the run's context points at its span (model calls of the
 * step nest under it; trace context is passed explicitly) and guardrail
 * decisions are reported to it; both are restored after.
 */
async function inStepSpan<T>(span: Span, st: RunState, fn: (span: Span) => Promise<T>): Promise<T> {
  const outer = st.ctx;
  const outerEvents = st.guard?.traceTo;
  if (span.isRecording()) {
    st.ctx = { ...outer, trace: trace.setSpan(outer.trace ?? ROOT_CONTEXT, span) };
    if (st.guard) st.guard.traceTo = span;
  }
  try {
    return await fn(span);
  } finally {
    span.end();
    st.ctx = outer;
    if (st.guard) st.guard.traceTo = outerEvents;
  }
}

/** Runs one step; answers where to go (undefined: the following step). */
async function runOne(step: StepConfig, visit: number, st: RunState, env: StepEnv, span: Span): Promise<string | undefined> {
  const started = performance.now();
  const record: StepRecord = { id: step.id, type: step.type, outcome: "ok", duration_ms: 0 };
  st.records.push(record);
  span.setAttributes({ "stratum.step.id": step.id, "stratum.step.type": step.type, "stratum.step.visit": visit });
  const overVisits = step.maxVisits !== undefined && visit > step.maxVisits;
  let result: Budgeted<StepResult>;
  if (overVisits) result = { ok: false, timedOut: false, error: new StepFailure(`already ran ${step.maxVisits} times (maxVisits)`) };
  else if (step.type === "branch") result = { ok: true, value: branchStep(step, st) };
  else if (step.type === "abstain") {
    st.abstained = { text: step.message ?? NOT_IN_DOCUMENTS, by: step.id };
    result = { ok: true, value: { end: true } };
  } else {
    const handler = HANDLERS[step.type] as StepHandler;
    result = await withinBudget(st.ctx.signal, step.budget.ms, (signal) => handler(step, st, env, signal));
  }
  record.duration_ms = Math.round((performance.now() - started) * 10) / 10;

  if (result.ok) {
    const { vars, detail, goto, end } = result.value;
    Object.assign(record, detail);
    if (vars) {
      st.byStep.set(step.id, vars);
      st.byType.set(step.type, vars);
    }
    span.setAttribute("stratum.step.outcome", "ok");
    if (goto !== undefined) span.setAttribute("stratum.step.goto", goto);
    return end ? END : (goto ?? step.next);
  }

  const message = messageOf(result.error);
  record.error = message;
  span.recordException(result.error instanceof Error ? result.error : new Error(message));
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (result.error instanceof RunStop) {
    record.outcome = "failed";
    span.setAttribute("stratum.step.outcome", "stopped");
    throw result.error.error;
  }
  record.outcome = result.timedOut ? "timeout" : "failed";
  // Skipping a step over its maxVisits would enter the loop again: the run abstains instead.
  const fallback = overVisits && step.fallback === "skip" ? ABSTAIN : step.fallback;
  record.fallback = fallback;
  span.setAttributes({ "stratum.step.outcome": record.outcome, "stratum.step.fallback": fallback });
  switch (fallback) {
    case "skip":
      return step.next;
    case ABSTAIN:
      st.abstained = { text: NOT_IN_DOCUMENTS, by: `${step.id}:fallback` };
      return END;
    case "extractive":
      await extractiveAnswer(step as StepOf<"answer">, st, env, `${step.id}:extractive`);
      return step.next;
    case "fail":
      throw stepError(step, result);
    default:
      return fallback;
  }
}

/** The error a step with `fallback: fail` ends the request with: never a 200 with a partial answer. */
function stepError(step: StepConfig, r: Extract<Budgeted<unknown>, { ok: false }>): StratumError {
  if (r.timedOut) {
    return new StratumError("UpstreamTimeout", `pipeline step "${step.id}" ran over its time budget of ${step.budget.ms} ms (fallback: fail)`, { code: "pipeline_step_timeout", retryable: false });
  }
  // The client's own mistakes (e.g. a conversation too long for the context) stay 4xx.
  if (isStratumError(r.error) && (r.error.kind === "InvalidRequest" || r.error.kind === "GuardrailBlocked")) return r.error;
  return new StratumError("UpstreamError", `pipeline step "${step.id}" failed (fallback: fail): ${messageOf(r.error)}`, { code: "pipeline_step_failed", cause: r.error });
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
