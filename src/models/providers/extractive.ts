// The "extractive" provider: not a language model. It answers by quoting the
// sentences of the conversation's own context that best match the question,
// with citations, and says plainly when the context does not contain an
// answer. It is the last-resort fallback when every real model is down, so it
// must never fail and must be fast (pure CPU, no I/O).
import type { ExtractiveProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import {
  contentText,
  maxOutputTokens,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatMessage,
  type ChatRequest,
  type FinishReason,
} from "../../protocol/openai.js";
import { ChunkMaker } from "../../protocol/chunks.js";
import { countPromptTokens, countTokens } from "../tokenizer.js";
import type { ChatProvider } from "../provider.js";

export const NO_ANSWER = "The provided context does not contain an answer to this question.";

export interface Citation {
  /** The marker number, [1], [2]... in answer order. */
  index: number;
  text: string;
  /** Normalised relevance in [0, 1] (see scoreSentences). */
  score: number;
  /** Index in request.messages of the message the sentence came from. */
  messageIndex: number;
  /** The numbered passage ("[n]" block) the sentence came from, when the context is made of passages. */
  passage?: number;
}

export interface ExtractiveAnswer {
  text: string;
  citations: Citation[];
}

// ------------------------------------------------------------ text handling ---

const STOPWORDS = new Set(
  ("a an the and or but if then else of to in on at by for with from into onto about as is are was were be been being am " +
    "do does did doing done have has had having i me my we our you your he him his she her it its they them their this that " +
    "these those there here what which who whom whose when where why how not no nor so than too very can could will would " +
    "shall should may might must just also only any all some such each both own same other more most s t don isn aren wasn " +
    "weren doesn didn won tell please give explain describe according context question answer provided based following")
    .split(" "),
);

/** Light suffix stripping (plural s/es/ies, -ing, -ed, final e); consistent rather than linguistically exact. */
export function stem(w: string): string {
  if (w.length <= 2 || w.charCodeAt(0) < 0x61) return w; // short words and numbers as-is
  let s = w;
  if (s.endsWith("ies") || s.endsWith("ied")) s = s.length > 4 ? s.slice(0, -3) + "y" : s;
  else if (s.endsWith("es") && (s.endsWith("sses") || s.endsWith("xes") || s.endsWith("zes") || s.endsWith("ches") || s.endsWith("shes"))) s = s.slice(0, -2);
  else if (s.endsWith("s") && !s.endsWith("ss") && !s.endsWith("us") && !s.endsWith("is")) s = s.slice(0, -1);
  if (s.endsWith("ing") && s.length > 5) s = undouble(s.slice(0, -3));
  else if (s.endsWith("ed") && s.length >= 4) s = undouble(s.slice(0, -2));
  if (s.endsWith("e") && s.length >= 3) s = s.slice(0, -1);
  return s;
}

// Natural text repeats words heavily; caching stems halves the scoring time.
const STEMS = new Map<string, string>();
function cachedStem(w: string): string {
  let s = STEMS.get(w);
  if (s === undefined) {
    if (STEMS.size >= 100_000) STEMS.clear();
    s = stem(w);
    STEMS.set(w, s);
  }
  return s;
}

/** "runn" -> "run", "stopp" -> "stop" (but "call", "pass" keep their pair). */
function undouble(s: string): string {
  const n = s.length;
  return n > 2 && s[n - 1] === s[n - 2] && !"lszf".includes(s[n - 1]!) ? s.slice(0, -1) : s;
}

const WORD_RE = /[\p{L}\p{N}]+/gu;

/** Lowercased, stopword-free, stemmed terms of a text. */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(WORD_RE)) {
    const w = m[0];
    if ((w.length === 1 && w.charCodeAt(0) >= 0x61) || STOPWORDS.has(w)) continue;
    out.push(cachedStem(w));
  }
  return out;
}

const ABBREVIATIONS = new Set(
  ("mr mrs ms dr prof sr jr st mt vs etc e.g i.e eg ie inc ltd co corp no nos fig figs approx dept est gen gov sen rep rev " +
    "jan feb mar apr jun jul aug sep sept oct nov dec al cf vol pp ed eds ca op cit").split(" "),
);
const SENTENCE_END = /[.!?…]+["'”’)\]]*\s+(?=["'“‘(\[]?[\p{Lu}\p{N}])/gu;
const BULLET = /^(?:[-*•‣▪◦]|\d{1,3}[.)])\s+/;
const HEADING = /^#{1,6}\s+/;

/** Split running text at sentence ends, skipping abbreviations and initials ("Dr. No", "J. Smith", "e.g. X"). */
function splitRunning(text: string, out: string[]): void {
  let from = 0;
  for (const m of text.matchAll(SENTENCE_END)) {
    const end = m.index;
    if (m[0][0] === ".") {
      const ws = text.lastIndexOf(" ", end - 1);
      const word = text.slice(ws + 1, end).toLowerCase().replace(/^["'“‘(\[]+/, "");
      if (ABBREVIATIONS.has(word) || /^\p{L}$/u.test(word) || /^(?:\p{L}\.)+\p{L}$/u.test(word)) continue;
    }
    const s = text.slice(from, end + m[0].trimEnd().length).trim();
    if (s) out.push(s);
    from = end + m[0].length;
  }
  const rest = text.slice(from).trim();
  if (rest) out.push(rest);
}

/**
 * Sentences of a text. Blank lines, bullet and heading lines always break;
 * a plain line break joins a wrapped sentence (previous line has no final
 * punctuation and the next starts lowercase or the previous line is long),
 * and otherwise breaks (key: value lines, short list-like lines).
 */
export function splitSentences(text: string): string[] {
  const out: string[] = [];
  let buf = "";
  let prev = "";
  const flush = () => {
    if (buf) splitRunning(buf, out);
    buf = "";
  };
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line) {
      flush();
      prev = "";
      continue;
    }
    const marker = BULLET.exec(line) ?? HEADING.exec(line);
    if (marker) {
      flush();
      buf = line.slice(marker[0].length);
    } else if (buf && !/[.!?:;…]["'”’)\]]*$/.test(prev) && (/^\p{Ll}/u.test(line) || prev.length >= 60)) {
      buf += " " + line;
    } else {
      flush();
      buf = line;
    }
    prev = line;
  }
  flush();
  return out;
}

// ------------------------------------------------------------- the context ---

interface Sentence {
  text: string;
  messageIndex: number;
  passage?: number;
}

/** A passage header line: "[3] Title › Heading". */
const PASSAGE_HEADER = /^\[(\d{1,3})\][^\n]*$/gm;

/**
 * Context made of numbered passages (as RAG pipelines inject it): only the
 * passage bodies are context — the instructions around them are not — and
 * each sentence remembers its passage number for citing.
 */
function passageSentences(text: string, messageIndex: number): Sentence[] | undefined {
  const headers = [...text.matchAll(PASSAGE_HEADER)];
  if (headers.length === 0) return undefined;
  const out: Sentence[] = [];
  headers.forEach((h, k) => {
    const bodyStart = h.index + h[0].length;
    const bodyEnd = k + 1 < headers.length ? headers[k + 1]!.index : text.length;
    const passage = Number(h[1]);
    for (const s of splitSentences(text.slice(bodyStart, bodyEnd))) out.push({ text: s, messageIndex, passage });
  });
  return out;
}

const CONTEXT_MARKER = /^[ \t]*(?:#+[ \t]*)?(?:context|documents?|sources?|passages?)[ \t]*:[ \t]*/im;
const QUESTION_MARKER = /^[ \t]*(?:#+[ \t]*)?(?:question|query)[ \t]*:[ \t]*/im;

/**
 * The question is the last user message. The context is every system,
 * developer, tool and other user message, plus a "Context:" section inside
 * the last user message (a "Question:" line after it belongs to the question).
 */
export function gatherContext(messages: readonly ChatMessage[]): { question: string; sentences: Sentence[] } {
  let last = -1;
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]!.role === "user") {
      last = i;
      break;
    }
  }
  let question = "";
  const sentences: Sentence[] = [];
  const add = (text: string, messageIndex: number) => {
    const passages = passageSentences(text, messageIndex);
    if (passages) sentences.push(...passages);
    else for (const s of splitSentences(text)) sentences.push({ text: s, messageIndex });
  };
  messages.forEach((m, i) => {
    const text = contentText(m.content);
    if (i === last) {
      const cm = CONTEXT_MARKER.exec(text);
      if (!cm) {
        question = text;
        return;
      }
      let ctx = text.slice(cm.index + cm[0].length);
      let after = "";
      const qm = QUESTION_MARKER.exec(ctx);
      if (qm) {
        after = ctx.slice(qm.index + qm[0].length);
        ctx = ctx.slice(0, qm.index);
      }
      question = `${text.slice(0, cm.index)}\n${after}`.trim();
      add(ctx, i);
    } else if (m.role !== "assistant") {
      add(text, i);
    }
  });
  return { question, sentences };
}

// ---------------------------------------------------------------- scoring ---

const K1 = 1.2;
const B = 0.75;

/**
 * BM25 over the sentences (each sentence is a "document"), normalised so
 * that 1 means "contains every question term once at average length":
 * score / sum(idf(q)) over the distinct question terms, capped at 1. A
 * question term absent from the context still counts in the denominator
 * (with the highest idf), so partial matches score proportionally lower.
 * `minScore` (default 0.1) is a threshold on this normalised score.
 */
export function scoreSentences(question: string, sentences: readonly Sentence[]): number[] {
  const q = [...new Set(terms(question))];
  const scores = new Array<number>(sentences.length).fill(0);
  if (q.length === 0 || sentences.length === 0) return scores;
  const qIndex = new Map(q.map((t, i) => [t, i]));
  const tfs: Array<Float64Array | null> = [];
  const lens: number[] = [];
  const df = new Float64Array(q.length);
  let total = 0;
  for (const s of sentences) {
    const ts = terms(s.text);
    lens.push(ts.length);
    total += ts.length;
    let tf: Float64Array | null = null;
    for (const t of ts) {
      const k = qIndex.get(t);
      if (k === undefined) continue;
      tf ??= new Float64Array(q.length);
      if (tf[k] === 0) df[k]!++;
      tf[k]!++;
    }
    tfs.push(tf);
  }
  const n = sentences.length;
  const avg = total / n || 1;
  const idf = Array.from(df, (d) => Math.log(1 + (n - d + 0.5) / (d + 0.5)));
  const idfSum = idf.reduce((a, b) => a + b, 0);
  for (let i = 0; i < n; i++) {
    const tf = tfs[i];
    if (!tf) continue;
    const norm = K1 * (1 - B + (B * lens[i]!) / avg);
    let s = 0;
    for (let k = 0; k < q.length; k++) {
      const f = tf[k]!;
      if (f > 0) s += (idf[k]! * f * (K1 + 1)) / (f + norm);
    }
    scores[i] = Math.min(1, s / idfSum);
  }
  return scores;
}

/** Share of the best sentence's score a sentence needs to be quoted too. */
const RELATIVE_FLOOR = 0.5;

/** Pick, order and cite the answer sentences. */
export function extractAnswer(messages: readonly ChatMessage[], opts: { maxSentences: number; minScore: number }): ExtractiveAnswer {
  const { question, sentences } = gatherContext(messages);
  const scores = scoreSentences(question, sentences);
  // Sentences far weaker than the best one are noise next to it (a word in common, not an answer).
  const best = scores.reduce((a, b) => Math.max(a, b), 0);
  const floor = Math.max(opts.minScore, best * RELATIVE_FLOOR);
  const order = scores
    .map((score, i) => ({ score, i }))
    .filter((x) => x.score > 0 && x.score >= floor)
    .sort((a, b) => b.score - a.score || a.i - b.i);
  const seen = new Set<string>();
  const picked: Array<{ score: number; i: number }> = [];
  for (const x of order) {
    if (picked.length >= opts.maxSentences) break;
    const key = sentences[x.i]!.text.toLowerCase();
    if (seen.has(key)) continue; // the same sentence repeated across messages is cited once
    seen.add(key);
    picked.push(x);
  }
  if (picked.length === 0) return { text: NO_ANSWER, citations: [] };
  picked.sort((a, b) => a.i - b.i);
  // Sentences from numbered passages cite the passage number; others are numbered in answer order.
  const citations: Citation[] = picked.map((x, k) => {
    const s = sentences[x.i]!;
    const c: Citation = { index: s.passage ?? k + 1, text: s.text, score: Math.round(x.score * 1000) / 1000, messageIndex: s.messageIndex };
    if (s.passage !== undefined) c.passage = s.passage;
    return c;
  });
  return { text: citations.map((c) => `${c.text} [${c.index}]`).join(" "), citations };
}

// ---------------------------------------------------------------- provider ---

/** Trim at a word boundary to at most `max` tokens (binary search over words). */
function fitTokens(text: string, max: number): string {
  if (countTokens(text) <= max) return text;
  const words = text.split(" ");
  let lo = 0;
  let hi = words.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (countTokens(words.slice(0, mid).join(" ")) <= max) lo = mid;
    else hi = mid - 1;
  }
  return words.slice(0, lo).join(" ");
}

interface Answered {
  text: string;
  citations: Citation[];
  finishReason: FinishReason;
  promptTokens: number;
  completionTokens: number;
}

let seq = 0;

export function createExtractiveProvider(name: string, cfg: ExtractiveProviderConfig): ChatProvider {
  function answer(req: ChatRequest, signal: AbortSignal): Answered {
    if (signal.aborted) throw new StratumError("UpstreamTimeout", `extractive provider "${name}": request aborted`, { cause: signal.reason });
    const a = extractAnswer(req.messages, cfg);
    const limit = maxOutputTokens(req);
    const text = limit === undefined ? a.text : fitTokens(a.text, limit);
    const completionTokens = countTokens(text);
    return {
      text,
      citations: a.citations,
      finishReason: text.length < a.text.length ? "length" : "stop",
      promptTokens: countPromptTokens(req),
      completionTokens,
    };
  }
  const usage = (a: Answered) => ({ prompt_tokens: a.promptTokens, completion_tokens: a.completionTokens, total_tokens: a.promptTokens + a.completionTokens });

  return {
    type: "extractive",

    async chat(req, ctx): Promise<ChatCompletion> {
      const a = answer(req, ctx.signal);
      return {
        id: `chatcmpl-extractive-${Date.now().toString(36)}${(++seq).toString(36)}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: req.model,
        choices: [{ index: 0, message: { role: "assistant", content: a.text }, finish_reason: a.finishReason, logprobs: null }],
        usage: usage(a),
        stratum: { citations: a.citations },
      };
    },

    async stream(req, ctx) {
      const a = answer(req, ctx.signal);
      const make = new ChunkMaker(`chatcmpl-extractive-${Date.now().toString(36)}${(++seq).toString(36)}`, req.model);
      const pieces = a.text.match(/\s*\S+/g) ?? [];
      async function* chunks(): AsyncGenerator<ChatCompletionChunk> {
        yield make.delta({ role: "assistant", content: "" });
        for (const p of pieces) {
          if (ctx.signal.aborted) throw new StratumError("UpstreamTimeout", `extractive provider "${name}": request aborted`, { cause: ctx.signal.reason });
          yield make.delta({ content: p });
        }
        yield make.delta({}, a.finishReason);
        yield make.usage(usage(a));
      }
      return chunks();
    },
  };
}
