// Turns a follow-up question ("which port does it use?") into a standalone
// retrieval query. With a model call it asks for a rewrite; without one (or
// when the model fails) a deterministic rule appends the salient words of the
// previous exchange.
import { contentText, type ChatMessage } from "../protocol/openai.js";
import { isStopword, words } from "./terms.js";

export type QueryRewriter = (messages: ChatMessage[]) => Promise<string>;

export interface CondenseOptions {
  llm?: QueryRewriter;
  /** Longest query returned (default 500 characters). */
  maxChars?: number;
}

const LLM_MAX_CHARS = 300;
const TRANSCRIPT_MESSAGES = 6;
const TRANSCRIPT_CHARS = 600;
const MAX_ADDED_TERMS = 6;
/** Answers wander: at most this many words only the answer used. */
const MAX_ANSWER_ONLY_TERMS = 3;
const ASSISTANT_WORDS = 80;

const REWRITE_INSTRUCTIONS =
  "Rewrite the user's follow-up question as one standalone search query, resolving pronouns and references " +
  "from the conversation. Keep names and technical terms. Reply with the query only, no quotes or explanation.";

export async function condenseQuery(history: ChatMessage[], latest: string, opts: CondenseOptions = {}): Promise<string> {
  const maxChars = opts.maxChars ?? 500;
  const question = latest.trim();
  const turns = history.filter((m) => (m.role === "user" || m.role === "assistant") && contentText(m.content).trim());
  if (turns.length === 0) return clip(question, maxChars);
  if (opts.llm) {
    const rewritten = await rewrite(opts.llm, turns, question).catch(() => "");
    if (rewritten) return clip(rewritten, maxChars);
  }
  return clip(ruleQuery(turns, question), maxChars);
}

async function rewrite(llm: QueryRewriter, turns: ChatMessage[], question: string): Promise<string> {
  const transcript = turns
    .slice(-TRANSCRIPT_MESSAGES)
    .map((m) => `${m.role}: ${clip(contentText(m.content).replace(/\s+/g, " "), TRANSCRIPT_CHARS)}`)
    .join("\n");
  const out = await llm([
    { role: "system", content: REWRITE_INSTRUCTIONS },
    { role: "user", content: `Conversation:\n${transcript}\n\nFollow-up question: ${question}\n\nStandalone query:` },
  ]);
  const line = (out ?? "").split("\n").map((l) => l.trim()).find((l) => l) ?? "";
  const query = line.replace(/^(standalone\s+)?(search\s+)?(query|question)\s*:\s*/i, "").replace(/^["'“”]+|["'“”]+$/g, "").trim();
  // An empty or rambling answer is not a query: the rule does better.
  return query.length > 0 && query.length <= LLM_MAX_CHARS ? query : "";
}

const ANAPHORA = new Set(
  "it its it's itself they them their theirs themselves that this those these there he she him her his hers one ones former latter same such".split(" "),
);
const FOLLOW_UP_OPENERS = /^(and|also|but|so|or|then|what about|how about|what if|why not|same for)\b/i;

/** Short, anaphoric, or opening like a continuation ("and...", "what about..."). */
export function looksLikeFollowUp(question: string): boolean {
  const ws = words(question);
  if (ws.length <= 4 || FOLLOW_UP_OPENERS.test(question.trim())) return true;
  return ws.some((w) => ANAPHORA.has(w.toLowerCase()));
}

function ruleQuery(turns: ChatMessage[], question: string): string {
  if (!looksLikeFollowUp(question)) return question;
  const lastUser = turns.findLastIndex((m) => m.role === "user");
  const lastAssistant = turns.findLastIndex((m) => m.role === "assistant");
  const userText = lastUser >= 0 ? contentText(turns[lastUser]!.content) : "";
  const answerText = lastAssistant > lastUser ? contentText(turns[lastAssistant]!.content) : "";
  const terms = salientTerms(userText, answerText, question);
  return terms.length ? `${question} ${terms.join(" ")}` : question;
}

/**
 * Content words of the previous question (weighted highest) and the start of
 * the previous answer, preferring proper nouns / identifiers and longer words.
 */
export function salientTerms(userText: string, answerText: string, exclude: string): string[] {
  const excluded = new Set(words(exclude).map((w) => w.toLowerCase()));
  const cands = new Map<string, { word: string; score: number; order: number; asked: boolean }>();
  const add = (text: string, base: number, limit: number, asked: boolean) => {
    const ws = words(text).slice(0, limit);
    const seenHere = new Set<string>();
    ws.forEach((w, i) => {
      const lw = w.toLowerCase();
      if (excluded.has(lw) || isStopword(lw) || ANAPHORA.has(lw) || seenHere.has(lw)) return;
      if (lw.length < 3 && !/^[A-Z0-9]{2}$/.test(w)) return;
      seenHere.add(lw);
      const c = cands.get(lw) ?? { word: w, score: 0, order: cands.size, asked };
      // Seen in both the question and the answer: the topic itself.
      c.score += cands.has(lw) ? base + 2 : base + distinctiveness(w, text, i) + (lw.length >= 7 ? 1 : 0);
      cands.set(lw, c);
    });
  };
  add(userText, 3, Infinity, true);
  add(answerText, 1, ASSISTANT_WORDS, false);
  let answerOnly = 0;
  return [...cands.values()]
    .sort((a, b) => b.score - a.score || a.order - b.order)
    .filter((c) => c.asked || ++answerOnly <= MAX_ANSWER_ONLY_TERMS)
    .slice(0, MAX_ADDED_TERMS)
    .map((c) => c.word);
}

/** 2 for proper nouns, acronyms and identifiers (not just a capital at a sentence start). */
function distinctiveness(word: string, text: string, index: number): number {
  if (/\d/.test(word) || /\p{Ll}\p{Lu}/u.test(word) || /^\p{Lu}{2,}$/u.test(word)) return 2;
  if (!/^\p{Lu}/u.test(word) || index === 0) return 0;
  const at = nthWordOffset(text, index);
  return /[.!?:]\s*$/.test(text.slice(0, at)) ? 0 : 2;
}

function nthWordOffset(text: string, index: number): number {
  let i = 0;
  for (const m of text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}\p{M}'’]*/gu)) if (i++ === index) return m.index ?? 0;
  return text.length;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, max).replace(/\s+\S*$/, "");
}
