// Token counting with a real BPE tokenizer (o200k_base, the GPT-4o/GPT-5
// encoding). Other providers' tokenizers differ by a few percent; when an
// upstream reports usage, its numbers win. Special-token strings in user text
// are counted as text, never interpreted (hostile input must not throw).
//
// The encoding's rank table costs ~65 MiB of memory, so it is loaded on first
// use: a gateway whose upstreams report usage never pays for it. Hot paths
// that only need a budget figure (rate-limit admission) use estimateTokens.
import { createRequire } from "node:module";
import { contentText, type ChatMessage, type ChatRequest, type ToolCall, type Usage } from "../protocol/openai.js";

/** Per-message framing overhead used by OpenAI chat models. */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

type BpeCount = (text: string, opts: { disallowedSpecial: Set<string> }) => number;
const AS_TEXT = { disallowedSpecial: new Set<string>() };
let bpeCount: BpeCount | undefined;

function loadTokenizer(): BpeCount {
  return (bpeCount ??= (createRequire(import.meta.url)("gpt-tokenizer") as { countTokens: BpeCount }).countTokens);
}

export function countTokens(text: string): number {
  if (!text) return 0;
  return loadTokenizer()(text, AS_TEXT);
}

/**
 * A cheap upper-leaning estimate of prompt tokens (~4 characters per token
 * plus framing), for admission checks; exact counts replace it afterwards.
 */
export function estimatePromptTokens(req: Pick<ChatRequest, "messages" | "tools">): number {
  let chars = 0;
  for (const m of req.messages) {
    chars += contentText(m.content).length;
    if (m.role === "assistant" && m.tool_calls) for (const c of m.tool_calls) chars += c.function.name.length + c.function.arguments.length;
  }
  if (req.tools?.length) chars += JSON.stringify(req.tools).length;
  return estimateTextTokens(chars) + REPLY_PRIMING + PER_MESSAGE * req.messages.length;
}

/** ~4 characters per token: the estimate behind every admission check. */
export function estimateTextTokens(chars: number): number {
  return Math.ceil(chars / 4);
}


export function countMessageTokens(messages: readonly ChatMessage[]): number {
  let n = REPLY_PRIMING;
  for (const m of messages) {
    n += PER_MESSAGE + countTokens(contentText(m.content));
    if (m.role === "assistant" && m.tool_calls) {
      for (const c of m.tool_calls) n += countTokens(c.function.name) + countTokens(c.function.arguments);
    }
  }
  return n;
}

/** Prompt tokens of a chat request, including declared tools. */
export function countPromptTokens(req: Pick<ChatRequest, "messages" | "tools">): number {
  let n = countMessageTokens(req.messages);
  if (req.tools?.length) n += countTokens(JSON.stringify(req.tools));
  return n;
}

/** Usage counted locally, for upstreams (or streams) that report none. */
export function countUsage(req: Pick<ChatRequest, "messages" | "tools">, text: string, toolCalls: readonly ToolCall[] = []): Usage {
  const prompt = countPromptTokens(req);
  let completion = countTokens(text);
  for (const tc of toolCalls) completion += countTokens(tc.function.name) + countTokens(tc.function.arguments);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
