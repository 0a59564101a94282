// Building blocks shared by the pipelines (RagPipeline, StepPipeline): the
// fixed answers (abstention, withheld, unverifiable), the output guardrails on
// a whole answer, the stricter-instructions retry, search that treats a missing
// collection as "no documents", and replaying a finished answer as a stream.
import { isStratumError } from "../core/errors.js";
import { completionToChunks } from "../protocol/chunks.js";
import { contentText, type ChatCompletion, type ChatCompletionChunk, type ChatMessage, type ChatRequest } from "../protocol/openai.js";
import type { SearchRequest, SearchResult } from "../retrieval/types.js";
import type { GuardrailRun } from "../safety/index.js";

export const NOT_IN_DOCUMENTS = "The documents do not answer this question.";
/** What the user sees when an output guardrail withholds the answer. */
export const WITHHELD = "The answer was withheld by a safety check.";
export const UNGROUNDED = "The answer could not be verified against the documents.";

let abstentions = 0;

/** An explicit abstention, complete as an answer (never a half answer). */
export function abstention(model: string, text: string = NOT_IN_DOCUMENTS): ChatCompletion {
  return {
    id: `chatcmpl-abstain-${Date.now().toString(36)}${(++abstentions).toString(36)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

export function withheld(c: ChatCompletion): ChatCompletion {
  return { ...c, choices: [{ index: 0, message: { role: "assistant", content: WITHHELD }, finish_reason: "content_filter", logprobs: null }] };
}

/** Output guardrails on a whole answer: a block becomes a content_filter refusal; redactions and restores applied. */
export function guardOutput(c: ChatCompletion, guard: GuardrailRun | undefined): ChatCompletion {
  const choice = c.choices[0];
  if (!guard || !choice) return c;
  const text = contentText(choice.message.content ?? "");
  let content: string;
  try {
    content = guard.restore(guard.output(text));
  } catch (e) {
    if (!isStratumError(e) || e.kind !== "GuardrailBlocked") throw e;
    return withheld(c);
  }
  return { ...c, choices: [{ ...choice, message: { ...choice.message, content } }] };
}

/** The same request with a system line asking for an answer strictly from the passages (before the question). */
export function withStricterInstructions(req: ChatRequest): ChatRequest {
  const strict: ChatMessage = {
    role: "system",
    content: "Your previous answer included statements the passages do not support. Answer again using ONLY facts stated in the passages, citing each with [n]. If they do not contain the answer, say so.",
  };
  return { ...req, messages: [...req.messages.slice(0, -1), strict, req.messages[req.messages.length - 1]!] };
}

/** A tenant without the collection (yet) has no documents: the pipeline abstains rather than failing. */
export async function searchOrEmpty(search: (req: SearchRequest) => Promise<SearchResult>, req: SearchRequest): Promise<SearchResult> {
  try {
    return await search(req);
  } catch (e) {
    if (isStratumError(e) && e.kind === "NotFound") return { hits: [], confidence: 0, mode: req.mode ?? "hybrid", tookMs: 0 };
    throw e;
  }
}

/** A finished answer as chunks; the `stratum` extension rides on the finishing chunk. */
export async function* replayCompletion(c: ChatCompletion, includeUsage: boolean): AsyncGenerator<ChatCompletionChunk> {
  for (const chunk of completionToChunks(c, includeUsage)) {
    if (chunk.choices[0]?.finish_reason && c.stratum) chunk.stratum = c.stratum;
    yield chunk;
  }
}

export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
