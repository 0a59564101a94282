// Typed, reversible redaction across one request: the same value always gets
// the same placeholder ([EMAIL_1]), so the model can refer to it and the reply
// can be restored for the user who sent it.
import type { Finding } from "./types.js";

/** placeholder → original value, for one request. */
export type RedactionMap = Map<string, string>;

export function redactFindings(text: string, findings: readonly Finding[], map: RedactionMap): string {
  const spans = findings
    .filter((f): f is Finding & { start: number; end: number } => f.start !== undefined && f.end !== undefined && f.end > f.start)
    .sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let at = 0;
  for (const f of spans) {
    if (f.start < at) continue; // overlaps the previous span
    const value = text.slice(f.start, f.end);
    out += text.slice(at, f.start) + placeholderFor(f.type, value, map);
    at = f.end;
  }
  return out + text.slice(at);
}

function placeholderFor(type: string, value: string, map: RedactionMap): string {
  for (const [p, v] of map) if (v === value && p.startsWith(`[${type}_`)) return p;
  let n = 1;
  for (const p of map.keys()) if (p.startsWith(`[${type}_`)) n++;
  const p = `[${type}_${n}]`;
  map.set(p, value);
  return p;
}

export function restorePlaceholders(text: string, map: RedactionMap): string {
  return text.replace(/\[[A-Z_]+_\d+\]/g, (p) => map.get(p) ?? p);
}
