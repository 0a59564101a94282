// Retrieved chunks as numbered passages in the prompt, and citations back out
// of the answer: the model (or the extractive route) writes [n] markers; each
// marker that names a passage becomes a structured citation.
import type { SearchHit } from "../retrieval/types.js";
import type { AnswerCitation } from "./types.js";

/** "[1] Title › Heading\ntext" blocks. The header line carries no answer text (extractive skips it). */
export function formatPassages(hits: readonly SearchHit[]): string {
  return hits
    .map((h, i) => {
      const label = [h.document.title, ...h.chunk.headings.filter((x) => x !== h.document.title)].filter(Boolean).join(" › ");
      return `[${i + 1}] ${label || h.document.source}\n${bodyOf(h.chunk.text, h.chunk.headings)}`;
    })
    .join("\n\n");
}

/** The chunk text without its leading heading lines: they are in the passage label already, and a heading is not an answer. */
function bodyOf(text: string, headings: readonly string[]): string {
  const lines = text.trim().split("\n");
  let i = 0;
  while (i < lines.length - 1 && (headings.includes(lines[i]!.trim()) || lines[i]!.trim() === "")) i++;
  return lines.slice(i).join("\n").trim();
}

const MARKER = /\[(\d{1,3})\]/g;

/** Marker numbers used in a text, in first-use order, limited to 1..passages. */
export function citedMarkers(text: string, passages: number): number[] {
  const seen = new Set<number>();
  for (const m of text.matchAll(MARKER)) {
    const n = Number(m[1]);
    if (n >= 1 && n <= passages) seen.add(n);
  }
  return [...seen];
}

export function citationsFor(text: string, hits: readonly SearchHit[]): AnswerCitation[] {
  return citedMarkers(text, hits.length).map((n) => {
    const h = hits[n - 1]!;
    return {
      index: n,
      chunk_id: h.chunk.id,
      document_id: h.document.id,
      source: h.document.source,
      title: h.document.title,
      headings: h.chunk.headings,
      start: h.chunk.start,
      end: h.chunk.end,
      // Four significant digits, not decimals: FTS5 clamps the IDF of a term found in
      // nearly every chunk to ~1e-6, and four decimals showed those hits as score 0.
      score: Number(h.score.toPrecision(4)),
      text: h.chunk.text,
    };
  });
}
