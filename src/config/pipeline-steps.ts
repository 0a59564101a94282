// Declarative pipeline steps (`pipelines[].steps`): a list run in order, with
// branches (`goto`), per-step budgets and fallbacks. Everything that can be
// checked without running is checked here, at start, with the field path in
// the message: ids, goto/next/fallback targets, conditions (syntax, variables,
// labels), cycles without a bound, fallbacks that make no sense for the step.
// Routes are checked by the config's superRefine (it knows the aliases).
import { z } from "zod";
import { comparedStrings, parseCondition } from "./step-condition.js";

/** Targets that are not step ids: `end` stops the run; `abstain` answers with an abstention (unless a step is named so). */
export const END = "end";
export const ABSTAIN = "abstain";
/** Fallback actions that are not step ids. */
export const FALLBACK_ACTIONS = ["skip", "extractive", "abstain", "fail"] as const;
const RESERVED_IDS = new Set([END, "skip", "extractive", "fail"]);

const StepIdSchema = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "step ids start with a letter and use letters, digits and _ (at most 64)")
  .refine((id) => !RESERVED_IDS.has(id), { message: `"end", "skip", "extractive" and "fail" are reserved words, not step ids` });
const TargetSchema = z.string().min(1);

const BudgetSchema = z.strictObject({
  /** Wall-clock limit of the step (its model calls are aborted at this point). */
  ms: z.number().int().positive().max(600_000).default(30_000),
  /** Most completion tokens the step's model call may produce; an answer cut at the limit counts as a failure. */
  tokens: z.number().int().positive().max(200_000).optional(),
});

const common = {
  id: StepIdSchema,
  budget: BudgetSchema.prefault({}),
  /** What happens when the step fails or runs over budget: skip, extractive (answer steps), abstain, fail, or a step id to go to. */
  fallback: z.string().min(1).default("fail"),
  /** Where to go after the step (default: the next step in the list; `end` stops). */
  next: TargetSchema.optional(),
  /** How often the step may run in one request: needed on some step of every cycle. */
  maxVisits: z.number().int().min(1).max(20).optional(),
};

const RewriteStepSchema = z.strictObject({
  ...common,
  type: z.literal("rewrite"),
  /** Model alias that rewrites (default: the pipeline's route). */
  route: z.string().min(1).optional(),
  /** llm: always ask the route; rule: deterministic follow-up condensing; auto: llm when the route is a language model. */
  mode: z.enum(["auto", "llm", "rule"]).default("auto"),
});

const RetrieveStepSchema = z.strictObject({
  ...common,
  type: z.literal("retrieve"),
  /** Defaults come from the pipeline's `retrieval` and `collection`. */
  k: z.number().int().positive().max(50).optional(),
  mode: z.enum(["hybrid", "lexical", "dense"]).optional(),
  collection: z.string().min(1).optional(),
});

const LabelSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "labels use letters, digits, _ and - (at most 64)");

const ClassifyStepSchema = z.strictObject({
  ...common,
  type: z.literal("classify"),
  /** A language-model route labels the question; without one (or with a non-generative route) the keyword rules do. */
  route: z.string().min(1).optional(),
  labels: z.array(LabelSchema).min(2).max(32),
  /** Rule classifier: label → words or phrases; the label with the most matches wins. */
  keywords: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional(),
  /** Label when nothing matches or the model answers outside the set (default: the last label). */
  default: LabelSchema.optional(),
});

const GuardrailStepSchema = z.strictObject({
  ...common,
  type: z.literal("guardrail"),
  /** refuse: a block is a 400 guardrail_blocked (as in RAG pipelines); continue: record it and let a branch decide. */
  onBlock: z.enum(["refuse", "continue"]).default("refuse"),
});

const AnswerStepSchema = z.strictObject({
  ...common,
  type: z.literal("answer"),
  /** Model alias that answers (default: the pipeline's route); `extractive` quotes the passages. */
  route: z.string().min(1).optional(),
  /** System prompt template (default: the pipeline's prompt.system); placeholders as there, plus {{label}}. */
  prompt: z.string().min(1).max(20_000).optional(),
});

const VerifyGroundingStepSchema = z.strictObject({
  ...common,
  type: z.literal("verify_grounding"),
  /** Least share of answer sentences supported by the passages. */
  min: z.number().min(0).max(1).default(0.5),
  onFail: z
    .strictObject({
      /** Re-run this answer step once with stricter instructions before `then`. */
      retryStricter: StepIdSchema.optional(),
      /** extractive: answer by quoting the passages; abstain; fail (an error); flag (keep, report); or a step id. */
      then: z.string().min(1).default("abstain"),
    })
    .prefault({}),
});

const BranchStepSchema = z.strictObject({
  ...common,
  type: z.literal("branch"),
  /** Checked in order; the first true condition's goto is taken. */
  when: z.array(z.strictObject({ if: z.string().min(1), goto: TargetSchema })).min(1).max(32),
  /** Taken when no condition holds (default: the next step). */
  else: TargetSchema.optional(),
});

const AbstainStepSchema = z.strictObject({
  ...common,
  type: z.literal("abstain"),
  /** The abstention text (default: "The documents do not answer this question."). */
  message: z.string().min(1).max(2_000).optional(),
});

export const StepSchema = z.discriminatedUnion("type", [
  RewriteStepSchema,
  RetrieveStepSchema,
  ClassifyStepSchema,
  GuardrailStepSchema,
  AnswerStepSchema,
  VerifyGroundingStepSchema,
  BranchStepSchema,
  AbstainStepSchema,
]);
export type StepConfig = z.infer<typeof StepSchema>;
export type StepType = StepConfig["type"];
export type StepOf<T extends StepType> = Extract<StepConfig, { type: T }>;

/** Variables each step type sets for conditions: `<step id>.<field>`, or `<kind>.<field>` for the latest step of that type. */
export const STEP_FIELDS: Record<StepType, readonly string[]> = {
  rewrite: ["changed"],
  retrieve: ["confidence", "hits"],
  classify: ["label"],
  guardrail: ["action", "blocked", "flagged"],
  answer: [],
  verify_grounding: ["score", "passed"],
  branch: [],
  abstain: [],
};
/** Kind names usable as variable prefixes. */
export const KIND_PREFIX: Record<string, StepType> = { rewrite: "rewrite", retrieval: "retrieve", classify: "classify", guardrail: "guardrail", grounding: "verify_grounding" };

/** Which steps a variable reads (by step id first, then by kind), or an error message. */
export function resolveVariable(name: string, steps: readonly StepConfig[]): { steps: StepConfig[] } | { error: string } {
  const dot = name.indexOf(".");
  const prefix = name.slice(0, dot);
  const field = name.slice(dot + 1);
  const byId = steps.find((s) => s.id === prefix);
  const candidates = byId ? [byId] : KIND_PREFIX[prefix] ? steps.filter((s) => s.type === KIND_PREFIX[prefix]) : [];
  if (candidates.length === 0) {
    const kinds = Object.keys(KIND_PREFIX).join(", ");
    return { error: KIND_PREFIX[prefix] ? `"${name}": no ${KIND_PREFIX[prefix]} step sets it` : `unknown condition variable "${name}" (prefixes are step ids or ${kinds})` };
  }
  const fields = STEP_FIELDS[candidates[0]!.type];
  if (!fields.includes(field)) return { error: `unknown condition variable "${name}" (${candidates[0]!.type} steps set ${fields.length ? fields.join(", ") : "nothing"})` };
  return { steps: candidates };
}

interface Edge {
  to: number;
  path: (string | number)[];
  what: string;
}

type Issue = { path: (string | number)[]; message: string };

/** Every static check of a step list; each issue's path is relative to the list. */
export function stepIssues(steps: readonly StepConfig[]): Issue[] {
  const issues: Issue[] = [];
  const index = new Map<string, number>();
  steps.forEach((s, i) => {
    if (index.has(s.id)) issues.push({ path: [i, "id"], message: `duplicate step id "${s.id}"` });
    else index.set(s.id, i);
  });
  const edges: Edge[][] = steps.map(() => []);
  const known = [...index.keys()].join(", ");
  /** A goto-like target: a step id, `end`, or `abstain`. */
  const target = (from: number, value: string, path: (string | number)[], what: string) => {
    const to = index.get(value);
    if (to !== undefined) edges[from]!.push({ to, path, what });
    else if (value !== END && value !== ABSTAIN) issues.push({ path, message: `unknown step "${value}" (steps: ${known}; or end, abstain)` });
  };
  const fallbackTarget = (from: number, value: string, path: (string | number)[], allowed: readonly string[]) => {
    if (allowed.includes(value)) return;
    const to = index.get(value);
    if (to !== undefined) edges[from]!.push({ to, path, what: "fallback" });
    else issues.push({ path, message: `"${value}" is neither a step id nor one of ${allowed.join(", ")}` });
  };

  steps.forEach((s, i) => {
    // Where the run goes after the step finishes normally.
    if (s.type !== "abstain") {
      if (s.next !== undefined) target(i, s.next, [i, "next"], "next");
      else if (i + 1 < steps.length && !(s.type === "branch" && s.else !== undefined)) edges[i]!.push({ to: i + 1, path: [i], what: "the following step" });
    }
    const fallbacks = s.type === "answer" ? ["extractive", "abstain", "fail"] : s.type === "abstain" ? ["fail"] : ["skip", "abstain", "fail"];
    if (s.fallback === "skip" && s.type === "answer") issues.push({ path: [i, "fallback"], message: "an answer step cannot be skipped (the run would end without an answer): use extractive, abstain, fail or a step id" });
    else if (s.fallback === "extractive" && s.type !== "answer") issues.push({ path: [i, "fallback"], message: `extractive is a fallback of answer steps only (this is a ${s.type} step)` });
    else fallbackTarget(i, s.fallback, [i, "fallback"], fallbacks);

    if (s.type === "branch") {
      s.when.forEach((w, j) => {
        target(i, w.goto, [i, "when", j, "goto"], "goto");
        const parsed = parseCondition(w.if);
        if (!parsed.ok) return issues.push({ path: [i, "when", j, "if"], message: parsed.error });
        for (const v of parsed.vars) {
          const r = resolveVariable(v, steps);
          if ("error" in r) issues.push({ path: [i, "when", j, "if"], message: r.error });
        }
        for (const { var: v, value } of comparedStrings(parsed.cond)) {
          const r = resolveVariable(v, steps);
          if ("error" in r || !v.endsWith(".label")) continue;
          const labels = new Set(r.steps.flatMap((c) => (c.type === "classify" ? c.labels : [])));
          if (!labels.has(value)) issues.push({ path: [i, "when", j, "if"], message: `"${value}" is not a label of ${v.split(".")[0]} (labels: ${[...labels].join(", ")})` });
        }
      });
      if (s.else !== undefined) target(i, s.else, [i, "else"], "else");
    }
    if (s.type === "verify_grounding") {
      const retry = s.onFail.retryStricter;
      if (retry !== undefined && steps[index.get(retry) ?? -1]?.type !== "answer") issues.push({ path: [i, "onFail", "retryStricter"], message: `"${retry}" is not an answer step` });
      fallbackTarget(i, s.onFail.then, [i, "onFail", "then"], ["extractive", "abstain", "fail", "flag"]);
    }
    if (s.type === "classify") {
      for (const label of Object.keys(s.keywords ?? {})) {
        if (!s.labels.includes(label)) issues.push({ path: [i, "keywords", label], message: `"${label}" is not one of the labels (${s.labels.join(", ")})` });
      }
      if (s.default !== undefined && !s.labels.includes(s.default)) issues.push({ path: [i, "default"], message: `"${s.default}" is not one of the labels` });
      if (!s.route && !s.keywords) issues.push({ path: [i, "keywords"], message: "a classify step needs a route (a language model) or keywords (rules)" });
    }
  });
  if (!steps.some((s) => s.type === "answer" || s.type === "abstain")) issues.push({ path: [], message: "a step list needs at least one answer (or abstain) step" });
  issues.push(...cycleIssues(steps, edges));
  return issues;
}

/** A cycle is allowed only when one of its steps declares maxVisits (so every run ends). */
function cycleIssues(steps: readonly StepConfig[], edges: Edge[][]): Issue[] {
  const issues: Issue[] = [];
  const state = steps.map(() => 0); // 0 new, 1 on the stack, 2 done
  const stack: number[] = [];
  const visit = (n: number) => {
    state[n] = 1;
    stack.push(n);
    for (const e of edges[n]!) {
      if (state[e.to] === 1) {
        const cycle = stack.slice(stack.indexOf(e.to));
        if (!cycle.some((c) => steps[c]!.maxVisits !== undefined)) {
          const names = [...cycle, e.to].map((c) => steps[c]!.id).join(" → ");
          issues.push({ path: e.path, message: `${e.what} "${steps[e.to]!.id}" makes a cycle (${names}) with no bound: give one of its steps maxVisits` });
        }
      } else if (state[e.to] === 0) visit(e.to);
    }
    stack.pop();
    state[n] = 2;
  };
  steps.forEach((_, n) => state[n] === 0 && visit(n));
  return issues;
}

export const StepsSchema = z
  .array(StepSchema)
  .min(1)
  .max(64)
  .superRefine((steps, ctx) => {
    for (const issue of stepIssues(steps)) ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  });

/** Model aliases the steps name, with their paths relative to the step list (checked against the aliases). */
export function stepRoutes(steps: readonly StepConfig[]): Array<{ path: (string | number)[]; route: string }> {
  return steps.flatMap((s, i) => ("route" in s && s.route !== undefined ? [{ path: [i, "route"], route: s.route }] : []));
}
