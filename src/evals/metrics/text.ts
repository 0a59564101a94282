// Answer-quality metrics on text: SQuAD-style exact match and token F1,
// facts contained, regex and JSON validity. Pure functions, scores in [0, 1].
import { parseRegex } from "../types.js";

/** SQuAD normalisation: lowercase, strip punctuation, articles (a, an, the) and extra whitespace. Citation markers like [1] go too. */
export function normalizeAnswer(s: string): string {
  return s
    .normalize("NFKC")
    .toLowerCase()
    .replace(/\[\d{1,3}\]/g, " ")
    .replace(/[\p{P}\p{S}]/gu, " ")
    .replace(/\b(a|an|the)\b/g, " ")
    .split(/\s+/)
    .filter(Boolean)
    .join(" ");
}

export function answerTokens(s: string): string[] {
  const n = normalizeAnswer(s);
  return n ? n.split(" ") : [];
}

/** 1 when the normalised answer equals the normalised expected answer. */
export function exactMatch(output: string, expected: string): number {
  return normalizeAnswer(output) === normalizeAnswer(expected) ? 1 : 0;
}

/** Token-overlap F1 (bag of words, SQuAD). Both empty → 1; one empty → 0. */
export function tokenF1(output: string, expected: string): number {
  const pred = answerTokens(output);
  const gold = answerTokens(expected);
  if (pred.length === 0 || gold.length === 0) return pred.length === gold.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const t of gold) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of pred) {
    const c = counts.get(t) ?? 0;
    if (c > 0) {
      common++;
      counts.set(t, c - 1);
    }
  }
  if (common === 0) return 0;
  const precision = common / pred.length;
  const recall = common / gold.length;
  return (2 * precision * recall) / (precision + recall);
}

/** 1 when every fact occurs in the output (case-insensitive, whitespace-collapsed substring); no facts → 1. */
export function containsAll(output: string, facts: readonly string[]): number {
  const hay = collapse(output);
  return facts.every((f) => hay.includes(collapse(f))) ? 1 : 0;
}

/** Share of the facts found (partial credit). */
export function factRecall(output: string, facts: readonly string[]): number {
  if (facts.length === 0) return 1;
  const hay = collapse(output);
  return facts.filter((f) => hay.includes(collapse(f))).length / facts.length;
}

function collapse(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s+/g, " ").trim();
}

/** 1 when the pattern ("/re/flags" or a bare pattern) matches. */
export function regexMatch(output: string, pattern: string | RegExp): number {
  const re = typeof pattern === "string" ? parseRegex(pattern) : pattern;
  re.lastIndex = 0;
  return re.test(output) ? 1 : 0;
}

/** 1 when the output parses as JSON (a ```json fenced block is accepted). */
export function jsonValid(output: string): number {
  const fenced = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(output);
  const body = (fenced ? fenced[1]! : output).trim();
  if (!body) return 0;
  try {
    JSON.parse(body);
    return 1;
  } catch {
    return 0;
  }
}
