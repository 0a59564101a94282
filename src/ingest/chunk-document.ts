// Structure-aware chunking. Blocks are never split unless one alone exceeds
// the budget (then sentences, then words, then — for a run with no spaces —
// character windows). Consecutive blocks under the same heading trail are
// packed up to the budget; a heading starts a new chunk; the next chunk in the
// same section starts with the previous chunk's tail sentences (overlap).
//
// Speed: every piece is tokenised once and chunk sizes are the sum of piece
// counts plus one per join. Pieces are cut at whitespace, where o200k's
// pre-tokeniser also cuts, so the sum is an upper bound of the real count in
// practice: budgets hold without re-tokenising chunks while packing.
import { countTokens } from "../models/index.js";
import type { ChunkInput } from "../retrieval/types.js";
import type { ParsedDocument } from "./types.js";

export interface ChunkOptions {
  /** Budget per chunk in o200k tokens (default 400). */
  maxTokens?: number;
  /** Tokens of the previous chunk's tail repeated at the start of the next one in the same section (default 60). */
  overlapTokens?: number;
  /** Store the exact token count of each chunk (one more tokenizer pass) instead of the packing sum (default true). */
  exactTokens?: boolean;
}

interface Unit {
  start: number;
  end: number;
  tokens: number;
  heading: boolean;
  trail: string[];
}

interface Span {
  start: number;
  end: number;
}

const SENTENCE_END = /[.!?…。！？]["')\]’”»]*(\s+)|\n\s*/g;

function trimmed(text: string, start: number, end: number): Span | undefined {
  while (start < end && /\s/.test(text[start]!)) start++;
  while (end > start && /\s/.test(text[end - 1]!)) end--;
  return end > start ? { start, end } : undefined;
}

/** Sentence spans within [start, end) of text, whitespace excluded. */
export function sentenceSpans(text: string, start: number, end: number): Span[] {
  const sub = text.slice(start, end);
  const out: Span[] = [];
  let s = 0;
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(sub); m; m = SENTENCE_END.exec(sub)) {
    const sentEnd = m[1] !== undefined ? m.index + m[0].length - m[1].length : m.index;
    const span = trimmed(text, start + s, start + sentEnd);
    if (span) out.push(span);
    s = m.index + m[0].length;
  }
  const last = trimmed(text, start + s, end);
  if (last) out.push(last);
  return out;
}

function wordSpans(text: string, start: number, end: number): Span[] {
  const out: Span[] = [];
  const re = /\S+/g;
  const sub = text.slice(start, end);
  for (let m = re.exec(sub); m; m = re.exec(sub)) out.push({ start: start + m.index, end: start + m.index + m[0].length });
  return out;
}

/** Splits an over-budget range into units that each fit (sentences → words → character windows). */
function splitRange(text: string, span: Span, tokens: number, max: number, trail: string[], out: Unit[], depth = 0): void {
  if (tokens <= max) {
    out.push({ ...span, tokens, heading: false, trail });
    return;
  }
  if (depth === 0) {
    const sentences = sentenceSpans(text, span.start, span.end);
    if (sentences.length > 1) {
      for (const s of sentences) splitRange(text, s, countTokens(text.slice(s.start, s.end)), max, trail, out, 1);
      return;
    }
  }
  if (depth <= 1) {
    const words = wordSpans(text, span.start, span.end);
    if (words.length > 1) {
      // Pack words greedily; a word is counted with its leading space, as it appears in the text.
      let group: Span | undefined;
      let sum = 0;
      for (const w of words) {
        const wt = countTokens(text.slice(group ? group.end : w.start, w.end));
        if (wt > max) {
          if (group) out.push({ ...group, tokens: sum, heading: false, trail });
          group = undefined;
          sum = 0;
          splitRange(text, w, countTokens(text.slice(w.start, w.end)), max, trail, out, 2);
          continue;
        }
        if (group && sum + wt > max) {
          out.push({ ...group, tokens: sum, heading: false, trail });
          group = undefined;
          sum = 0;
        }
        if (!group) {
          group = { ...w };
          sum = countTokens(text.slice(w.start, w.end));
        } else {
          group.end = w.end;
          sum += wt;
        }
      }
      if (group) out.push({ ...group, tokens: sum, heading: false, trail });
      return;
    }
  }
  // One run without whitespace (base64, minified code): character windows sized from its token density.
  let s = span.start;
  while (s < span.end) {
    let len = Math.max(1, Math.floor(((span.end - span.start) * max) / tokens * 0.9));
    let t = countTokens(text.slice(s, Math.min(span.end, s + len)));
    while (t > max && len > 1) {
      len = Math.max(1, Math.floor(len * 0.8));
      t = countTokens(text.slice(s, Math.min(span.end, s + len)));
    }
    const e = Math.min(span.end, s + len);
    out.push({ start: s, end: e, tokens: t, heading: false, trail });
    s = e;
  }
}

function toUnits(doc: ParsedDocument, max: number): Unit[] {
  const units: Unit[] = [];
  let trail: string[] = [];
  const levels: number[] = [];
  for (const b of doc.blocks) {
    if (b.kind === "heading") {
      const level = b.level ?? 1;
      while (levels.length && levels[levels.length - 1]! >= level) {
        levels.pop();
        trail = trail.slice(0, -1);
      }
      levels.push(level);
      trail = [...trail, b.text];
    }
    const span = { start: b.start, end: b.end };
    const tokens = countTokens(doc.text.slice(b.start, b.end));
    if (b.kind === "heading" && tokens <= max) units.push({ ...span, tokens, heading: true, trail });
    else splitRange(doc.text, span, tokens, max, trail, units);
  }
  return units;
}

/** Tail sentences of the chunk's units worth at most `budget` tokens; returns where the overlap starts. */
function overlapStart(text: string, units: Unit[], chunkStart: number, budget: number): { start: number; tokens: number } | undefined {
  if (budget <= 0) return undefined;
  let start: number | undefined;
  let sum = 0;
  for (let i = units.length - 1; i >= 0; i--) {
    const u = units[i]!;
    if (u.heading) break;
    const sentences = sentenceSpans(text, u.start, u.end);
    for (let j = sentences.length - 1; j >= 0; j--) {
      const s = sentences[j]!;
      if (s.start <= chunkStart) return start === undefined ? undefined : { start, tokens: sum };
      const t = countTokens(text.slice(s.start, s.end)) + 1;
      if (sum + t > budget) return start === undefined ? undefined : { start, tokens: sum };
      sum += t;
      start = s.start;
    }
  }
  return start === undefined ? undefined : { start, tokens: sum };
}

export function chunkDocument(doc: ParsedDocument, opts: ChunkOptions = {}): ChunkInput[] {
  const max = Math.max(8, opts.maxTokens ?? 400);
  const overlap = Math.max(0, Math.min(opts.overlapTokens ?? 60, Math.floor(max / 2)));
  const exact = opts.exactTokens ?? true;
  const text = doc.text;
  const units = toUnits(doc, max);
  const chunks: ChunkInput[] = [];

  let cur: Unit[] = [];
  let curStart = 0;
  let curTokens = 0;
  let curTrail: string[] = [];

  const flush = () => {
    if (!cur.length) return;
    const end = cur[cur.length - 1]!.end;
    const chunkText = text.slice(curStart, end);
    chunks.push({
      ordinal: chunks.length,
      text: chunkText,
      headings: curTrail,
      start: curStart,
      end,
      tokens: exact ? countTokens(chunkText) : curTokens,
    });
  };

  for (const u of units) {
    if (!cur.length) {
      cur = [u];
      curStart = u.start;
      curTokens = u.tokens;
      curTrail = u.trail;
      continue;
    }
    const onlyHeadings = cur.every((c) => c.heading);
    // A heading ends the chunk, unless the chunk so far is only headings (keep "# A / ## B / text" together).
    if (u.heading && !onlyHeadings) {
      flush();
      cur = [u];
      curStart = u.start;
      curTokens = u.tokens;
      curTrail = u.trail;
      continue;
    }
    if (curTokens + 1 + u.tokens <= max) {
      cur.push(u);
      curTokens += 1 + u.tokens;
      curTrail = u.trail;
      continue;
    }
    flush();
    const sameSection = u.trail === cur[cur.length - 1]!.trail && !u.heading;
    const ov = sameSection ? overlapStart(text, cur, curStart, Math.min(overlap, max - u.tokens - 1)) : undefined;
    cur = [u];
    curTrail = u.trail;
    curStart = ov ? ov.start : u.start;
    curTokens = u.tokens + (ov ? ov.tokens : 0);
  }
  flush();
  return chunks;
}
