// Grounding check for RAG answers: the share of the answer's sentences whose
// content words are (mostly) found in one retrieved passage. Lexical, so it
// runs on every answer for free; an LLM judge can replace it later.
import { splitSentences } from "../models/index.js";
import { analyzeUnique } from "../retrieval/index.js";

export interface GroundingResult {
  /** Supported sentences / sentences with content words; 1 when there is nothing to check. */
  score: number;
  supported: number;
  sentences: number;
}

/** A sentence counts as supported when this share of its content words occur in one passage. */
const COVERAGE = 0.6;

export function groundingScore(answer: string, passages: readonly string[]): GroundingResult {
  const passageTerms = passages.map((p) => new Set(analyzeUnique(p)));
  let supported = 0;
  let sentences = 0;
  for (const s of splitSentences(answer.replace(/\[\d{1,3}\]/g, " "))) {
    const words = analyzeUnique(s);
    if (words.length < 2) continue; // "Yes.", "[1]": nothing to check
    sentences++;
    const best = Math.max(0, ...passageTerms.map((t) => words.filter((w) => t.has(w)).length / words.length));
    if (best >= COVERAGE) supported++;
  }
  return { score: sentences === 0 ? 1 : supported / sentences, supported, sentences };
}
