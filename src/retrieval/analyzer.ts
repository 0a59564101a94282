// The one text analyzer, used at index time and at query time: NFKD-fold,
// lowercase, split on anything that is not a letter or digit, drop stopwords,
// Porter-stem ASCII words. The FTS5 table stores these pre-analyzed terms, so
// the query side knows exactly which terms exist (IDF look-ups, term capping).
import { stemmer as porterStem } from "stemmer";
import { STOPWORDS } from "./stopwords.js";

const TOKEN = /[\p{L}\p{N}]+/gu;
const MARKS = /\p{M}+/gu;
/** Tokens longer than this are noise (hashes, base64): they are cut, not dropped. */
const MAX_TOKEN = 40;

// Stemming dominates analysis cost and vocabularies are Zipfian: memoise.
const STEMS = new Map<string, string>();
const STEM_CACHE_MAX = 200_000;
function stem(t: string): string {
  let s = STEMS.get(t);
  if (s === undefined) {
    s = /^[a-z]+$/.test(t) ? porterStem(t) : t;
    if (STEMS.size >= STEM_CACHE_MAX) STEMS.clear();
    STEMS.set(t, s);
  }
  return s;
}

/** Analyzed terms of a text, in order, with repeats (for indexing). */
export function analyze(text: string): string[] {
  const out: string[] = [];
  const folded = text.normalize("NFKD").replace(MARKS, "").toLowerCase();
  for (const m of folded.matchAll(TOKEN)) {
    let t = m[0];
    if (t.length > MAX_TOKEN) t = t.slice(0, MAX_TOKEN);
    if (STOPWORDS.has(t)) continue;
    out.push(stem(t));
  }
  return out;
}

/** Distinct analyzed terms of a text, first occurrence order (for queries and overlap). */
export function analyzeUnique(text: string): string[] {
  return [...new Set(analyze(text))];
}

/** The text FTS5 indexes: analyzed terms joined by spaces (its unicode61 tokenizer splits them back). */
export const indexText = (text: string): string => analyze(text).join(" ");
