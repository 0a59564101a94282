// Fits a conversation into a route's context window: the system messages and
// the current turn are always kept; history is kept newest-first while it fits;
// older turns are dropped or condensed into one summary message.
import { StratumError } from "../core/errors.js";
import { countMessageTokens, countTokens } from "../models/index.js";
import { contentText, type ChatMessage, type Tool } from "../protocol/openai.js";

export type ContextStrategy = "drop" | "summarize";
export type Summarizer = (messages: ChatMessage[]) => Promise<string>;

export interface FitContextInput {
  /** System prompt, including injected retrieved context: always kept. */
  system: ChatMessage[];
  /** Earlier turns, oldest first. */
  history: ChatMessage[];
  /** The new message(s): always kept. */
  current: ChatMessage[];
  /** An existing summary of turns older than `history`. */
  summary?: string;
  /** The route's context length. */
  contextTokens: number;
  reserveOutputTokens: number;
  strategy: ContextStrategy;
  /** A model call answering the given messages (used with "summarize"). */
  summarize?: Summarizer;
  /** Declared tools count against the prompt too. */
  tools?: Tool[];
  /** Room set aside for a new summary when turns must go (default 512 tokens, at most a quarter of the free room). */
  maxSummaryTokens?: number;
}

export type FitFallbackReason = "no_summarizer" | "summarize_failed" | "summary_too_long";

export interface FitContextResult {
  messages: ChatMessage[];
  /** Prompt tokens of `messages` (+ tools), as countPromptTokens counts them. */
  tokens: number;
  /** History messages removed without being summarised. */
  dropped: number;
  /** The oldest `summarized` history messages are covered by `summary`. */
  summarized: number;
  /** The summary text included in `messages` (new, or the one passed in). */
  summary?: string;
  /** Index in `history` of the oldest message that may be kept; everything before it was dropped or summarised. */
  keptFrom: number;
  /** Set when "summarize" fell back to dropping. */
  fallback?: { reason: FitFallbackReason; message?: string };
}

export const SUMMARY_PREFIX = "Summary of earlier conversation: ";
const REPLY_PRIMING = countMessageTokens([]);

/** A message, or an assistant tool call with its results: kept or removed together. */
interface Unit {
  start: number;
  messages: ChatMessage[];
  cost: number;
}

export async function fitContext(input: FitContextInput): Promise<FitContextResult> {
  const { system, history, current } = input;
  const budget = input.contextTokens - input.reserveOutputTokens;
  const toolTokens = input.tools?.length ? countTokens(JSON.stringify(input.tools)) : 0;
  const { units, invalid } = groupUnits(history, current);

  // A trailing tool call answered by the current turn cannot be separated from it.
  const last = units.at(-1);
  const pinned = last && answeredByCurrent(last, current) ? units.pop() : undefined;
  const fixed = REPLY_PRIMING + toolTokens + costOf(system) + costOf(current) + (pinned?.cost ?? 0);
  if (fixed > budget) {
    throw new StratumError(
      "InvalidRequest",
      `The system prompt and the current message need ${fixed} tokens; with ${input.reserveOutputTokens} reserved for output ` +
        `that exceeds the context length of ${input.contextTokens} tokens.`,
      { code: "context_length_exceeded", param: "messages" },
    );
  }
  const free = budget - fixed;
  const historyCost = units.reduce((n, u) => n + u.cost, 0);
  const prior = input.summary?.trim() ? summaryMessage(input.summary.trim()) : undefined;
  const priorCost = prior ? costOf([prior]) : 0;

  const assemble = (kept: Unit[], summary: string | undefined, summarized: number, keptFrom: number, fallback?: FitContextResult["fallback"]): FitContextResult => {
    const keptCount = kept.reduce((n, u) => n + u.messages.length, 0) + (pinned?.messages.length ?? 0);
    const sm = summary === undefined ? [] : [summaryMessage(summary)];
    const out: FitContextResult = {
      messages: [...system, ...sm, ...kept.flatMap((u) => u.messages), ...(pinned?.messages ?? []), ...current],
      tokens: fixed + costOf(sm) + kept.reduce((n, u) => n + u.cost, 0),
      dropped: history.length - keptCount - summarized,
      summarized,
      keptFrom,
    };
    if (summary !== undefined) out.summary = summary;
    if (fallback) out.fallback = fallback;
    return out;
  };

  // Everything fits.
  if (historyCost + priorCost <= free) return assemble(units, prior ? input.summary!.trim() : undefined, 0, 0);

  // Dropping: the newest turns that fit, with the earlier summary if it takes at most half the room.
  const dropFit = (fallback?: FitContextResult["fallback"]): FitContextResult => {
    const kept = newestThatFit(units, free - (priorCost <= Math.floor(free / 2) ? priorCost : 0));
    const room = free - kept.reduce((n, u) => n + u.cost, 0);
    const keptFrom = kept[0]?.start ?? pinned?.start ?? history.length;
    return assemble(kept, prior && priorCost <= room ? input.summary!.trim() : undefined, 0, keptFrom, fallback);
  };
  if (input.strategy === "drop") return dropFit();
  if (!input.summarize) return dropFit({ reason: "no_summarizer" });

  // Summarising: set room aside for the new summary, then condense everything older than the kept turns.
  const reserve = Math.min(input.maxSummaryTokens ?? 512, Math.floor(free / 4));
  const kept = newestThatFit(units, free - reserve);
  const keptFrom = kept[0]?.start ?? pinned?.start ?? history.length;
  // Nothing older worth condensing (at most stray tool messages): plain dropping.
  if (!units.some((u) => u.start < keptFrom)) return dropFit();
  const room = free - kept.reduce((n, u) => n + u.cost, 0);
  let text: string;
  try {
    const prompt = summaryPrompt(input.summary?.trim(), history.slice(0, keptFrom), Math.max(0, budget - priorCost - 100));
    text = (await input.summarize(prompt)).trim();
  } catch (e) {
    return dropFit({ reason: "summarize_failed", message: e instanceof Error ? e.message : String(e) });
  }
  if (!text) return dropFit({ reason: "summarize_failed", message: "the summary was empty" });
  if (costOf([summaryMessage(text)]) > room) return dropFit({ reason: "summary_too_long" });
  // Invalid messages inside the summarised prefix are covered by it; later ones count as dropped.
  return assemble(kept, text, keptFrom, keptFrom);
}

function costOf(messages: readonly ChatMessage[]): number {
  return messages.length === 0 ? 0 : countMessageTokens(messages) - REPLY_PRIMING;
}

function summaryMessage(text: string): ChatMessage {
  return { role: "system", content: SUMMARY_PREFIX + text };
}

/** The newest contiguous run of units within `room` (a gap would leave the model a non-sequitur). */
function newestThatFit(units: Unit[], room: number): Unit[] {
  let i = units.length;
  let used = 0;
  while (i > 0 && used + units[i - 1]!.cost <= room) used += units[--i]!.cost;
  return units.slice(i);
}

function answeredByCurrent(unit: Unit, current: ChatMessage[]): boolean {
  const first = current[0];
  const head = unit.messages[0];
  return first?.role === "tool" && head?.role === "assistant" && !!head.tool_calls?.some((c) => c.id === first.tool_call_id);
}

/**
 * Groups history into units. A tool message without its assistant call, and a
 * tool call missing some of its results (which upstreams reject), are invalid:
 * they are never kept. The last call may be completed by the current turn.
 */
function groupUnits(history: ChatMessage[], current: ChatMessage[]): { units: Unit[]; invalid: number[] } {
  const units: Unit[] = [];
  const invalid: number[] = [];
  const answeredNow = new Set(current.flatMap((m) => (m.role === "tool" ? [m.tool_call_id] : [])));
  let i = 0;
  while (i < history.length) {
    const m = history[i]!;
    if (m.role === "tool") {
      invalid.push(i++);
      continue;
    }
    if (m.role !== "assistant" || !m.tool_calls?.length) {
      units.push({ start: i, messages: [m], cost: costOf([m]) });
      i++;
      continue;
    }
    const ids = new Set(m.tool_calls.map((c) => c.id));
    const members = [i];
    let j = i + 1;
    for (; j < history.length && history[j]!.role === "tool"; j++) {
      const t = history[j] as Extract<ChatMessage, { role: "tool" }>;
      if (ids.delete(t.tool_call_id)) members.push(j);
      else invalid.push(j);
    }
    const isLast = j === history.length;
    if (ids.size === 0 || (isLast && [...ids].every((id) => answeredNow.has(id)))) {
      const messages = members.map((k) => history[k]!);
      units.push({ start: i, messages, cost: costOf(messages) });
    } else invalid.push(...members);
    i = j;
  }
  invalid.sort((a, b) => a - b);
  return { units, invalid };
}

const SUMMARY_INSTRUCTIONS =
  "You condense conversations. Summarise the conversation below in a short paragraph, keeping the facts, names, " +
  "numbers, decisions and open questions needed to continue it. Use the conversation's language. Reply with the summary only.";
const PER_MESSAGE_CHARS = 2_000;

/** The summariser's prompt: the earlier summary, then the newest turns that fit its window. */
function summaryPrompt(prior: string | undefined, messages: ChatMessage[], maxTokens: number): ChatMessage[] {
  const lines: string[] = [];
  let used = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const line = transcriptLine(messages[i]!);
    const cost = countTokens(line) + 1;
    if (used + cost > maxTokens) break;
    used += cost;
    lines.unshift(line);
  }
  const head = prior ? `Earlier summary: ${prior}\n\n` : "";
  return [
    { role: "system", content: SUMMARY_INSTRUCTIONS },
    { role: "user", content: `${head}Conversation:\n${lines.join("\n")}` },
  ];
}

function transcriptLine(m: ChatMessage): string {
  let text = contentText(m.content);
  if (m.role === "assistant" && m.tool_calls?.length) {
    text += (text ? " " : "") + m.tool_calls.map((c) => `[called ${c.function.name}(${c.function.arguments})]`).join(" ");
  }
  if (text.length > PER_MESSAGE_CHARS) text = text.slice(0, PER_MESSAGE_CHARS) + "…";
  return `${m.role === "tool" ? "tool result" : m.role}: ${text.replace(/\s+/g, " ").trim()}`;
}
