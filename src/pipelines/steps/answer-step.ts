// answer: the prompt template with the retrieved passages (and memory, the
// classifier's label) fitted to the context window, sent to the step's route;
// or the extractive route, which quotes the passages. An answer cut by the
// step's token budget is a failure, never a complete answer.
import type { StepOf } from "../../config/pipeline-steps.js";
import { EXTRACTIVE_ALIAS } from "../../models/index.js";
import type { ChatMessage, ChatRequest } from "../../protocol/openai.js";
import { fitContext, recallMemory } from "../../sessions/index.js";
import { formatPassages } from "../passages.js";
import { renderPrompt, type PromptTemplate } from "../prompt-template.js";
import { completeFor, shortCall } from "./model-calls.js";
import { StepFailure, type DraftAnswer, type RunState, type StepEnv, type StepHandler } from "./types.js";

type AnswerStep = StepOf<"answer">;

export function answerTemplate(step: AnswerStep, env: StepEnv): PromptTemplate {
  return { name: `${env.name}.${step.id}`, version: env.cfg.prompt.version, text: step.prompt ?? env.cfg.prompt.system };
}

/** The request an answer step sends to `route` (the extractive route gets the standalone query as the question). */
export async function answerRequest(step: AnswerStep, route: string, st: RunState, env: StepEnv, signal: AbortSignal): Promise<ChatRequest> {
  const cfg = env.cfg;
  const generative = env.models.isGenerative(route);
  if (st.memory === undefined) st.memory = cfg.memory && st.ctx.user && env.memory ? await recallMemory(env.memory, st.ctx.tenant, st.ctx.user, st.query) : "";
  const values = { name: env.name, collection: cfg.collection, context: formatPassages(st.retrieval?.hits ?? []), memory: st.memory, label: st.label ?? "" };
  const system: ChatMessage = { role: "system", content: [renderPrompt(answerTemplate(step, env), values), st.guard?.canaryInstruction ?? ""].filter(Boolean).join("\n\n") };
  const asked: ChatMessage = { role: "user", content: generative ? st.question : st.query };
  const maxOut = st.req.max_completion_tokens ?? st.req.max_tokens ?? cfg.context.reserveOutputTokens;
  const summarize = cfg.context.strategy === "summarize" && generative;
  const fitted = await fitContext({
    system: [system, ...st.clientSystem],
    history: st.history,
    current: [asked],
    ...(st.stored.summary ? { summary: st.stored.summary.text } : {}),
    contextTokens: cfg.context.maxTokens,
    reserveOutputTokens: Math.min(maxOut, cfg.context.reserveOutputTokens),
    strategy: summarize ? "summarize" : "drop",
    ...(summarize ? { summarize: (messages: ChatMessage[]) => shortCall(env, st, route, messages, 256, signal) } : {}),
  });
  if (fitted.summary && fitted.summarized > 0 && st.stored.messages.length > 0) await env.conversations.summarize(st.ctx, st.stored, fitted.summary, fitted.summarized);
  st.context = { dropped: fitted.dropped, summarized: fitted.summarized, tokens: fitted.tokens };
  const cap = step.budget.tokens;
  if (cap === undefined) return { ...st.req, model: route, messages: fitted.messages };
  // The step's token budget caps the client's own limit.
  const { max_completion_tokens: _mct, ...rest } = st.req;
  return { ...rest, model: route, messages: fitted.messages, max_tokens: Math.min(cap, st.req.max_completion_tokens ?? st.req.max_tokens ?? cap) };
}

export const answerStep: StepHandler<AnswerStep> = async (step, st, env, signal) => {
  const route = step.route ?? env.cfg.route;
  const request = await answerRequest(step, route, st, env, signal);
  st.answerRequests.set(step.id, { route, request });
  const served = await completeFor(env, st, route, request, signal);
  signal.throwIfAborted(); // over budget meanwhile: the fallback owns the answer now
  const finish = served.result.choices[0]?.finish_reason;
  if (step.budget.tokens !== undefined && finish === "length") throw new StepFailure(`the answer was cut at the step's token budget (${step.budget.tokens})`);
  st.answer = { served, by: step.id, route, request };
  return { detail: { route: served.servedBy, ...(served.deployment ? { deployment: served.deployment } : {}), finish_reason: finish ?? null } };
};

/** The last-resort answer: the extractive route quoting the retrieved passages (no model, so no budget of its own). */
export async function extractiveAnswer(step: AnswerStep, st: RunState, env: StepEnv, by: string): Promise<DraftAnswer> {
  const request = await answerRequest(step, EXTRACTIVE_ALIAS, st, env, st.ctx.signal);
  const served = await completeFor(env, st, EXTRACTIVE_ALIAS, request, st.ctx.signal, true);
  st.answer = { served, by, route: EXTRACTIVE_ALIAS, request };
  return st.answer;
}
