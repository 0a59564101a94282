// A trace's flat spans as a tree (children by start time). Spans whose parent
// is missing (not stored, or dropped) hang under the root so nothing is lost.
import type { StoredSpan } from "./types.js";

export interface SpanNode {
  span: StoredSpan;
  children: SpanNode[];
}

/** The root node (the span without a parent; the earliest one if several), or undefined for no spans. */
export function spanTree(spans: readonly StoredSpan[]): SpanNode | undefined {
  if (spans.length === 0) return undefined;
  const sorted = [...spans].sort((a, b) => a.startMs - b.startMs || a.spanId.localeCompare(b.spanId));
  const nodes = new Map(sorted.map((s) => [s.spanId, { span: s, children: [] as SpanNode[] }]));
  const root = nodes.get((sorted.find((s) => s.parentSpanId === undefined) ?? sorted[0]!).spanId)!;
  for (const s of sorted) {
    const node = nodes.get(s.spanId)!;
    if (node === root) continue;
    const parent = (s.parentSpanId !== undefined ? nodes.get(s.parentSpanId) : undefined) ?? root;
    parent.children.push(node);
  }
  return root;
}
