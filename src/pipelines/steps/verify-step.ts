// verify_grounding: the share of the answer's sentences supported by the
// passages; below `min`, optionally one stricter retry of an answer step,
// then extractive, abstain, fail (an error), flag (keep and report), or a step.
import type { StepConfig, StepOf } from "../../config/pipeline-steps.js";
import { StratumError } from "../../core/errors.js";
import { contentText } from "../../protocol/openai.js";
import { groundingScore } from "../../safety/index.js";
import { round4, UNGROUNDED, withStricterInstructions } from "../answers.js";
import { extractiveAnswer } from "./answer-step.js";
import { completeFor } from "./model-calls.js";
import { RunStop, StepFailure, type StepHandler } from "./types.js";

export const verifyGroundingStep: StepHandler<StepOf<"verify_grounding">> = async (step, st, env, signal) => {
  const answer = st.answer;
  if (!answer) throw new StepFailure("there is no answer to verify");
  const passages = (st.retrieval?.hits ?? []).map((h) => h.chunk.text);
  const scoreOf = (text: string) => groundingScore(text, passages);
  const textOf = () => contentText(st.answer?.served.result.choices[0]?.message.content ?? "");
  const first = scoreOf(textOf());
  st.grounding = first;
  const score = round4(first.score);
  if (first.score >= step.min) return { vars: { score, passed: true }, detail: { score, min: step.min } };

  const then = step.onFail.then;
  st.guard?.record({ guardrail: "grounding", stage: "output", action: then === "flag" ? "flag" : "block", types: [then], score });
  const detail: Record<string, unknown> = { score, min: step.min };
  const retry = step.onFail.retryStricter ? st.answerRequests.get(step.onFail.retryStricter) : undefined;
  if (retry) {
    const again = await completeFor(env, st, retry.route, withStricterInstructions(retry.request), signal, true);
    signal.throwIfAborted();
    const g = scoreOf(contentText(again.result.choices[0]?.message.content ?? ""));
    detail.retry = { step: step.onFail.retryStricter, score: round4(g.score) };
    if (g.score >= step.min) {
      st.answer = { served: again, by: `${step.onFail.retryStricter}:stricter`, route: retry.route, request: retry.request };
      st.grounding = g;
      return { vars: { score, passed: true }, detail: { ...detail, then: "retry" } };
    }
  }
  detail.then = then;
  const vars = { score, passed: false };
  switch (then) {
    case "flag":
      return { vars, detail };
    case "abstain":
      st.abstained = { text: UNGROUNDED, by: step.id };
      return { vars, detail, end: true };
    case "fail":
      throw new RunStop(new StratumError("OutputInvalid", `the answer could not be verified against the documents (grounding ${score} < ${step.min})`, { code: "grounding_failed" }));
    case "extractive": {
      const answerCfg = env.cfg.steps.find((s): s is StepOf<"answer"> => s.id === answer.by.split(":")[0] && s.type === "answer") ?? firstAnswer(env.cfg.steps);
      await extractiveAnswer(answerCfg, st, env, `${step.id}:extractive`);
      st.grounding = scoreOf(textOf());
      return { vars, detail: { ...detail, extractive_score: round4(st.grounding.score) } };
    }
    default:
      return { vars, detail, goto: then };
  }
};

function firstAnswer(steps: readonly StepConfig[]): StepOf<"answer"> {
  return steps.find((s): s is StepOf<"answer"> => s.type === "answer")!;
}
