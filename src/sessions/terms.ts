// Word handling shared by memory search and query condensing: splitting free
// text into words (letters and digits only, so nothing reaches FTS5 as syntax)
// and an English stopword list.

const WORD = /[\p{L}\p{N}][\p{L}\p{N}\p{M}'’]*/gu;

/** Words in order of appearance, case preserved, trailing possessives removed. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(WORD)) out.push(m[0].replace(/['’](s)?$/iu, ""));
  return out.filter((w) => w.length > 0);
}

export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    "a about above after again against all also am an and any are aren't as at be because been before being below " +
    "between both but by can cannot could did didn't do does doesn't doing don't down during each few for from " +
    "further had has have having he her here hers herself him himself his how i if in into is isn't it its itself " +
    "just let me more most my myself no nor not now of off on once only or other ought our ours ourselves out over own " +
    "same she should so some such than that the their theirs them themselves then there these they this those through " +
    "to too under until up very was wasn't we were what when where which while who whom why will with would you your " +
    "yours yourself yourselves s t ll re ve d m o y " +
    // Conversational filler that carries no topic.
    "please thanks thank ok okay yes yeah hi hello hey tell know think want like get got make use used using work works " +
    "does did done say said go going way thing things something anything one ones also really much many well still " +
    "mean means need needs able may might must shall tell show give explain describe"
  ).split(/\s+/),
);

export function isStopword(word: string): boolean {
  return STOPWORDS.has(word.toLowerCase().replace(/’/g, "'"));
}

/** Distinct lower-cased non-stopword words, in order of first appearance. */
export function contentWords(text: string): string[] {
  const seen = new Set<string>();
  for (const w of words(text)) {
    const lw = w.toLowerCase();
    if (!isStopword(lw)) seen.add(lw);
  }
  return [...seen];
}
