// Content hashes of specs: sha256 over canonical JSON (object keys sorted at
// every level, no whitespace), so key order never creates a new version.
import { createHash } from "node:crypto";

export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function contentHash(spec: unknown): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}
