// Metadata filters, two ways that agree: SQL (json_extract on the document's
// metadata, for lexical search) and a JS predicate (for over-fetched dense hits).
import type { Metadata, MetadataFilter, MetadataValue } from "./types.js";

const FIELD = /^[A-Za-z0-9_.-]+$/;

export class InvalidFilterError extends Error {
  override readonly name = "InvalidFilterError";
}

type Cond = Exclude<MetadataFilter[string], MetadataValue>;
const isIn = (c: Cond): c is { in: MetadataValue[] } => "in" in c;
const RANGE_OPS = { gt: ">", gte: ">=", lt: "<", lte: "<=" } as const;

function checkField(field: string): void {
  // Validated, then also bound as a parameter: the path never touches SQL text.
  if (!FIELD.test(field) || field.length > 128) throw new InvalidFilterError(`invalid metadata field name: ${JSON.stringify(field)}`);
}

/** SQLite stores booleans from JSON as 0/1; bind them the same way. */
const bindable = (v: MetadataValue): string | number => (typeof v === "boolean" ? (v ? 1 : 0) : v);

/** A SQL condition over `metaColumn` (a JSON text column) and its parameters. Empty filter → "1". */
export function filterToSql(filter: MetadataFilter | undefined, metaColumn: string): { sql: string; params: Array<string | number> } {
  const parts: string[] = [];
  const params: Array<string | number> = [];
  for (const [field, cond] of Object.entries(filter ?? {})) {
    checkField(field);
    const path = `$.${field.split(".").map((p) => `"${p}"`).join(".")}`;
    const expr = `json_extract(${metaColumn}, ?)`;
    if (typeof cond !== "object" || cond === null) {
      parts.push(`${expr} = ?`);
      params.push(path, bindable(cond));
    } else if (isIn(cond)) {
      if (!Array.isArray(cond.in)) throw new InvalidFilterError(`filter ${field}: "in" needs an array`);
      if (cond.in.length === 0) { parts.push("0"); continue; }
      parts.push(`${expr} IN (${cond.in.map(() => "?").join(", ")})`);
      params.push(path, ...cond.in.map(bindable));
    } else {
      let any = false;
      for (const [op, sqlOp] of Object.entries(RANGE_OPS)) {
        const v = (cond as Record<string, MetadataValue | undefined>)[op];
        if (v === undefined) continue;
        parts.push(`${expr} ${sqlOp} ?`);
        params.push(path, bindable(v));
        any = true;
      }
      if (!any) throw new InvalidFilterError(`filter ${field}: expected a value, {in}, or a range`);
    }
  }
  return { sql: parts.length ? parts.join(" AND ") : "1", params };
}

const get = (meta: Metadata, field: string): MetadataValue | undefined => {
  if (field in meta) return meta[field];
  // Dotted paths reach into nested JSON the same way json_extract does.
  let cur: unknown = meta;
  for (const p of field.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur as MetadataValue | undefined;
};

const cmp = (a: MetadataValue, b: MetadataValue): number | undefined => {
  const x = typeof a === "boolean" ? Number(a) : a;
  const y = typeof b === "boolean" ? Number(b) : b;
  if (typeof x !== typeof y) return undefined; // SQLite orders numbers before text; treat as no match
  return x < y ? -1 : x > y ? 1 : 0;
};

/** The JS twin of filterToSql. */
export function matchesFilter(meta: Metadata, filter: MetadataFilter | undefined): boolean {
  for (const [field, cond] of Object.entries(filter ?? {})) {
    checkField(field);
    const v = get(meta, field);
    if (v === undefined) return false;
    if (typeof cond !== "object" || cond === null) {
      if (cmp(v, cond) !== 0) return false;
    } else if (isIn(cond)) {
      if (!cond.in.some((c) => cmp(v, c) === 0)) return false;
    } else {
      const r = cond as Record<string, MetadataValue | undefined>;
      for (const op of ["gt", "gte", "lt", "lte"] as const) {
        const bound = r[op];
        if (bound === undefined) continue;
        const c = cmp(v, bound);
        if (c === undefined) return false;
        if ((op === "gt" && !(c > 0)) || (op === "gte" && !(c >= 0)) || (op === "lt" && !(c < 0)) || (op === "lte" && !(c <= 0))) return false;
      }
    }
  }
  return true;
}
