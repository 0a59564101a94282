// Model calls made by steps: usage is added to the run's total, and the
// step's signal (its budget) goes with every call.
import type { Served } from "../../models/index.js";
import { contentText, type ChatCompletion, type ChatMessage, type ChatRequest } from "../../protocol/openai.js";
import type { RunState, StepEnv } from "./types.js";

export async function completeFor(env: StepEnv, st: RunState, route: string, request: ChatRequest, signal: AbortSignal, noCache = st.ctx.noCache): Promise<Served<ChatCompletion>> {
  const served = await env.models.complete(route, { ...request, model: route }, { ...st.ctx, signal, ...(noCache ? { noCache: true } : {}) });
  const u = served.result.usage;
  if (u) {
    st.usage.prompt_tokens += u.prompt_tokens;
    st.usage.completion_tokens += u.completion_tokens;
    st.usage.total_tokens += u.total_tokens;
  }
  return served;
}

/** One short deterministic call (rewriting, classifying); the text of the answer. */
export async function shortCall(env: StepEnv, st: RunState, route: string, messages: ChatMessage[], maxTokens: number, signal: AbortSignal): Promise<string> {
  const served = await completeFor(env, st, route, { model: route, messages, temperature: 0, max_tokens: maxTokens }, signal);
  return contentText(served.result.choices[0]?.message.content ?? "");
}
