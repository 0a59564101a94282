// Typed redaction: each located finding becomes a placeholder such as [EMAIL_1]; the same value always
// gets the same placeholder, so the model can still refer to "[EMAIL_1]" consistently. With
// `reversible`, the mapping lets `restore` put the originals back into the model's reply.
import type { Finding } from "../types.js";

/** placeholder (with brackets, e.g. "[EMAIL_1]") → original value. */
export type RedactionMapping = Map<string, string>;

export interface RedactOptions {
  /** Keep placeholder → value so `restore` can undo the redaction (default false: mapping stays empty). */
  reversible?: boolean;
  /** Continue an earlier mapping (same conversation): known values keep their placeholders, numbering continues. */
  mapping?: RedactionMapping;
}

export interface RedactResult {
  text: string;
  mapping: RedactionMapping;
}

const PLACEHOLDER_RE = /\[([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*)_(\d{1,6})\]/g;

export function redact(text: string, findings: readonly Finding[], opts: RedactOptions = {}): RedactResult {
  const mapping: RedactionMapping = opts.mapping ?? new Map();
  // value → placeholder per type, and the next number per type, seeded from an earlier mapping.
  const byValue = new Map<string, string>();
  const next = new Map<string, number>();
  for (const [p, v] of mapping) {
    const m = /^\[(.+)_(\d+)\]$/.exec(p);
    if (m === null) continue;
    byValue.set(`${m[1]}\u0000${v}`, p);
    next.set(m[1]!, Math.max(next.get(m[1]!) ?? 1, Number(m[2]) + 1));
  }
  // Non-reversible redactions still number consistently within the text, without keeping values.
  const local = new Map<string, string>();

  const spans = findings
    .filter((f): f is Finding & { start: number; end: number } =>
      f.start !== undefined && f.end !== undefined && f.end > f.start && f.start >= 0 && f.end <= text.length)
    .sort((a, b) => a.start - b.start || b.end - a.end);

  let out = "";
  let at = 0;
  for (const f of spans) {
    if (f.start < at) continue; // overlaps a span already replaced
    const type = f.type.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
    const value = text.slice(f.start, f.end);
    const key = `${type}\u0000${value}`;
    let placeholder = byValue.get(key) ?? local.get(key);
    if (placeholder === undefined) {
      const n = next.get(type) ?? 1;
      next.set(type, n + 1);
      placeholder = `[${type}_${n}]`;
      if (opts.reversible) {
        byValue.set(key, placeholder);
        mapping.set(placeholder, value);
      } else {
        local.set(key, placeholder);
      }
    }
    out += text.slice(at, f.start) + placeholder;
    at = f.end;
  }
  return { text: out + text.slice(at), mapping };
}

/** Puts the originals back. Placeholders not in the mapping (mangled or invented by a model) stay as they are. */
export function restore(text: string, mapping: RedactionMapping | Readonly<Record<string, string>>): string {
  const get = mapping instanceof Map ? (p: string) => mapping.get(p) : (p: string) => (mapping as Record<string, string>)[p];
  return text.replace(PLACEHOLDER_RE, (p) => get(p) ?? p);
}
