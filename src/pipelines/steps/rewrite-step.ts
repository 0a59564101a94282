// rewrite: the question as a standalone search query. With history, the
// follow-up condensing of sessions/ (LLM or rule); without history, an LLM
// rewrite into a search query (rule mode leaves the question as it is).
import type { StepOf } from "../../config/pipeline-steps.js";
import { condenseQuery } from "../../sessions/index.js";
import type { ChatMessage } from "../../protocol/openai.js";
import { shortCall } from "./model-calls.js";
import { StepFailure, type StepHandler } from "./types.js";

const REWRITE = "Rewrite the user's question as one concise search query for a document search. Keep names and technical terms. Reply with the query only, no quotes or explanation.";
const MAX_QUERY_CHARS = 300;

export const rewriteStep: StepHandler<StepOf<"rewrite">> = async (step, st, env, signal) => {
  const route = step.route ?? env.cfg.route;
  const generative = env.models.isGenerative(route);
  const mode = step.mode === "auto" ? (generative ? "llm" : "rule") : step.mode;
  if (mode === "llm" && !generative) throw new StepFailure(`route "${route}" is not a language model (mode: llm)`);
  const maxTokens = step.budget.tokens ?? 128;
  let query: string;
  if (st.history.length > 0) {
    // condenseQuery falls back to its rule when the model fails: a failed call still fails the step here.
    let llmError: unknown;
    const llm = async (messages: ChatMessage[]) => {
      try {
        return await shortCall(env, st, route, messages, maxTokens, signal);
      } catch (e) {
        llmError = e;
        throw e;
      }
    };
    query = await condenseQuery(st.history, st.question, mode === "llm" ? { llm } : {});
    if (llmError) throw llmError;
  } else if (mode === "llm") {
    const out = await shortCall(env, st, route, [{ role: "system", content: REWRITE }, { role: "user", content: st.question }], maxTokens, signal);
    const line = out.split("\n").map((l) => l.trim()).find(Boolean) ?? "";
    const cleaned = line.replace(/^(search\s+)?query\s*:\s*/i, "").replace(/^["'“”]+|["'“”]+$/g, "").trim();
    query = cleaned && cleaned.length <= MAX_QUERY_CHARS ? cleaned : st.question;
  } else {
    query = st.question;
  }
  signal.throwIfAborted(); // over budget meanwhile: the fallback decides, not a late result
  const changed = query !== st.query;
  st.query = query;
  return { vars: { changed }, detail: { mode, query } };
};
