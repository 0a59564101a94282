// Groundedness: share of the answer's sentences supported by the cited passages.
import { groundingScore } from "../../safety/index.js";
import type { CitationLike } from "../types.js";

/** undefined when nothing was cited (not applicable). */
export function groundedness(output: string, citations: readonly CitationLike[]): number | undefined {
  const passages = citations.map((c) => c.text ?? "").filter((t) => t.length > 0);
  if (passages.length === 0) return undefined;
  return groundingScore(output, passages).score;
}
