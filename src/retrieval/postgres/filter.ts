// Metadata filters as PostgreSQL over a JSONB column, with the semantics of
// metadata-filter.ts (filterToSql on SQLite, matchesFilter in JS): dotted
// fields reach into nested objects; strings compare with strings (byte order,
// like SQLite), numbers and booleans (true = 1) with numbers; a value of another
// type, or a missing field, never matches. Casts sit behind jsonb_typeof guards,
// so no document's metadata can make the statement fail.
import { filterToSql } from "../metadata-filter.js";
import type { MetadataFilter, MetadataValue } from "../types.js";

const RANGE_OPS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

/**
 * A condition over `metaColumn` (JSONB) with parameters numbered from `firstParam`.
 * Throws InvalidFilterError for malformed filters (the same checks as filterToSql).
 */
export function filterToPgSql(filter: MetadataFilter | undefined, metaColumn: string, firstParam: number): { sql: string; params: unknown[] } {
  filterToSql(filter, metaColumn); // validation only: field names, shapes
  const params: unknown[] = [];
  const bind = (v: unknown): string => {
    params.push(v);
    return `$${firstParam + params.length - 1}`;
  };
  const parts: string[] = [];
  for (const [field, cond] of Object.entries(filter ?? {})) {
    const nothing = cond === null || (typeof cond === "object" && "in" in cond && cond.in.length === 0);
    if (nothing) {
      parts.push("FALSE"); // binds nothing: every bound parameter must be referenced
      continue;
    }
    // The field is bound, never spliced: a literal key first (as matchesFilter does), then the nested path.
    const x = `COALESCE(${metaColumn} -> ${bind(field)}::text, ${metaColumn} #> ${bind(field.split("."))}::text[])`;
    const str = `(CASE WHEN jsonb_typeof(${x}) = 'string' THEN ${x} #>> '{}' END) COLLATE "C"`;
    const num = `(CASE jsonb_typeof(${x}) WHEN 'number' THEN (${x} #>> '{}')::numeric WHEN 'boolean' THEN (CASE WHEN ${x} = 'true'::jsonb THEN 1 ELSE 0 END)::numeric END)`;
    const compare = (op: string, v: MetadataValue | null): string => {
      if (v === null) return "FALSE";
      if (typeof v === "string") return `${str} ${op} ${bind(v)}::text`;
      return `${num} ${op} ${bind(typeof v === "boolean" ? (v ? "1" : "0") : String(v))}::numeric`;
    };
    if (typeof cond !== "object" || cond === null) {
      parts.push(compare("=", cond));
    } else if ("in" in cond) {
      const strings = cond.in.filter((v): v is string => typeof v === "string");
      const numbers = cond.in.filter((v) => typeof v === "number" || typeof v === "boolean").map((v) => (typeof v === "boolean" ? (v ? "1" : "0") : String(v)));
      const any: string[] = [];
      if (strings.length) any.push(`${str} = ANY(${bind(strings)}::text[])`);
      if (numbers.length) any.push(`${num} = ANY(${bind(numbers)}::numeric[])`);
      parts.push(any.length ? `(${any.join(" OR ")})` : "FALSE");
    } else {
      for (const [op, sqlOp] of Object.entries(RANGE_OPS)) {
        const v = (cond as Record<string, MetadataValue | undefined>)[op];
        if (v !== undefined) parts.push(compare(sqlOp, v));
      }
    }
  }
  return { sql: parts.length ? parts.map((p) => `COALESCE(${p}, FALSE)`).join(" AND ") : "TRUE", params };
}
