// Token counting with a real BPE tokenizer (o200k_base, the GPT-4o/GPT-5
// encoding). Other providers' tokenizers differ by a few percent; when an
// upstream reports usage, its numbers win. Special-token strings in user text
// are counted as text, never interpreted (hostile input must not throw).
//
// The encoding's rank table costs ~15 MiB of live heap, so it is read (from
// the package's .tiktoken file: see bpe-ranks.ts) on first use and released
// after a minute unused (or at once after a bulk job such as the sample
// ingest): a gateway whose upstreams report usage does not keep it. Hot
// paths that only need a budget figure (rate-limit admission) use
// estimatePromptTokens.
import { createRequire } from "node:module";
import { readTiktokenRanks, type BpeRanks } from "./bpe-ranks.js";
import { contentText, type ChatMessage, type ChatRequest, type ToolCall, type Usage } from "../protocol/openai.js";

/** Per-message framing overhead used by OpenAI chat models. */
const PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

type BpeCount = (text: string, opts: { disallowedSpecial: Set<string> }) => number;
interface GptEncodingModule {
  GptEncoding: { getEncodingApi(name: "o200k_base", ranks: () => BpeRanks): { countTokens: BpeCount } };
}
const require = createRequire(import.meta.url);
const AS_TEXT = { disallowedSpecial: new Set<string>() };
const IDLE_RELEASE_MS = 60_000;
let bpeCount: BpeCount | undefined;
let lastUsed = 0;
let releaseTimer: NodeJS.Timeout | undefined;

function loadTokenizer(): BpeCount {
  lastUsed = Date.now();
  if (bpeCount) return bpeCount;
  const ranks = readTiktokenRanks(require.resolve("gpt-tokenizer/data/o200k_base.tiktoken"));
  const { GptEncoding } = require("gpt-tokenizer/GptEncoding") as GptEncodingModule;
  bpeCount = GptEncoding.getEncodingApi("o200k_base", () => ranks).countTokens;
  releaseTimer = setTimeout(releaseWhenIdle, IDLE_RELEASE_MS).unref();
  return bpeCount;
}

function releaseWhenIdle(): void {
  const idle = Date.now() - lastUsed;
  if (idle >= IDLE_RELEASE_MS) releaseTokenizer();
  else releaseTimer = setTimeout(releaseWhenIdle, IDLE_RELEASE_MS - idle).unref();
}

/**
 * Drop the rank table now (the next count loads it again, ~100 ms): its
 * modules leave the require cache, so nothing holds them and GC frees them.
 */
export function releaseTokenizer(): void {
  if (!bpeCount) return;
  bpeCount = undefined;
  clearTimeout(releaseTimer);
  const cache = require.cache;
  for (const k of Object.keys(cache)) if (/[\\/]gpt-tokenizer[\\/]/.test(k)) delete cache[k];
}

/** Whether the rank table is in memory (tests check the release). */
export function tokenizerLoaded(): boolean {
  return bpeCount !== undefined;
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
