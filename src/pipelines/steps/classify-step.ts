// classify: one label from a fixed set, by a language-model route or, when
// the step has no generative route, by keyword rules.
import type { StepOf } from "../../config/pipeline-steps.js";
import { shortCall } from "./model-calls.js";
import type { StepHandler } from "./types.js";

export const classifyStep: StepHandler<StepOf<"classify">> = async (step, st, env, signal) => {
  const fallbackLabel = step.default ?? step.labels[step.labels.length - 1]!;
  let label: string | undefined;
  let by: "llm" | "keywords";
  if (step.route && env.models.isGenerative(step.route)) {
    by = "llm";
    const system = `Classify the user's message into exactly one of these labels: ${step.labels.join(", ")}. Reply with the label only.`;
    const out = await shortCall(env, st, step.route, [{ role: "system", content: system }, { role: "user", content: st.question }], step.budget.tokens ?? 16, signal);
    label = labelIn(out, step.labels);
  } else {
    by = "keywords";
    label = byKeywords(st.question, step.labels, step.keywords ?? {});
  }
  signal.throwIfAborted();
  const matched = label !== undefined;
  st.label = label ?? fallbackLabel;
  return { vars: { label: st.label }, detail: { label: st.label, by, ...(matched ? {} : { defaulted: true }) } };
};

/** The label the model answered: the whole answer, else the first label named in it. */
function labelIn(text: string, labels: readonly string[]): string | undefined {
  const t = text.trim().toLowerCase().replace(/^["'`]+|["'`.]+$/g, "");
  const exact = labels.find((l) => l.toLowerCase() === t);
  if (exact) return exact;
  const hits = labels.map((l) => ({ l, at: t.search(new RegExp(`\\b${escape(l.toLowerCase())}\\b`)) })).filter((h) => h.at >= 0);
  hits.sort((a, b) => a.at - b.at);
  return hits[0]?.l;
}

/** The label with the most keyword matches (first label wins a tie); none when nothing matches. */
function byKeywords(question: string, labels: readonly string[], keywords: Record<string, string[]>): string | undefined {
  const q = question.toLowerCase();
  let best: { label: string; n: number } | undefined;
  for (const label of labels) {
    const n = (keywords[label] ?? []).filter((k) => new RegExp(`\\b${escape(k.toLowerCase())}`).test(q)).length;
    if (n > 0 && (!best || n > best.n)) best = { label, n };
  }
  return best?.label;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
