// Metadata values must be scalars (they become search filters): dates become
// ISO strings, arrays of scalars a comma-separated string, the rest is dropped.
import type { Metadata, MetadataValue } from "../../retrieval/types.js";

export function toMetadataValue(v: unknown): MetadataValue | undefined {
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.toISOString();
  if (Array.isArray(v) && v.every((x) => ["string", "number", "boolean"].includes(typeof x))) return v.join(", ");
  return undefined;
}

export function scalarMetadata(obj: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): Metadata {
  const out: Metadata = {};
  for (const [k, v] of Object.entries(obj)) {
    if (skip.has(k)) continue;
    const m = toMetadataValue(v);
    if (m !== undefined) out[k] = m;
  }
  return out;
}
