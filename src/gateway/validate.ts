import { Ajv } from "ajv";
import { z } from "zod";
import { StratumError } from "../core/errors.js";
import { formatFieldPath } from "../core/field-path.js";

/** Parse a request body with a schema; the error names the first bad field as `param`. */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new StratumError("InvalidRequest", "The request body must be a JSON object.", { code: "invalid_body" });
  }
  if (tooDeep(body, MAX_DEPTH)) {
    // Opaque fields (tool parameters, JSON schemas, unknown passthrough fields) are walked
    // recursively further down (cache keys, upstream serialisation): absurd nesting would
    // overflow the stack there, so it is refused here.
    throw new StratumError("InvalidRequest", `The request body is nested too deeply (more than ${MAX_DEPTH} levels).`, { code: "invalid_body" });
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = formatFieldPath(issue.path);
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length > 2 ? "s" : ""})` : "";
  throw new StratumError("InvalidRequest", `Invalid value for '${param || "body"}': ${issue.message}${more}`, { param: param || null, code: "invalid_value" });
}

const ajv = new Ajv({ strict: false, discriminator: true });

type JsonSchema = { [k: string]: unknown };
const isSchema = (v: unknown): v is JsonSchema => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Marks each `oneOf` whose branches all fix the same property to a constant
 * (zod's discriminated unions: chat messages by `role`) with ajv's
 * `discriminator`, so ajv goes straight to the branch the value names instead
 * of trying every branch and building an error object for each that fails
 * (~1.5 KB of garbage a chat request). Same verdicts: a tag that names no
 * branch, or none at all, fails either way.
 */
function withDiscriminators(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withDiscriminators);
  if (!isSchema(node)) return node;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) out[k] = withDiscriminators(v);
  const branches = out.oneOf;
  if (Array.isArray(branches) && branches.length > 1 && out.discriminator === undefined) {
    const tag = discriminatingProperty(branches);
    // ajv applies `discriminator` (which then stands in for the oneOf) to objects only; the type keeps every other value failing.
    if (tag) Object.assign(out, { type: "object", discriminator: { propertyName: tag } });
  }
  return out;
}

/** The property every branch requires and fixes to a distinct string constant, if there is one. */
function discriminatingProperty(branches: unknown[]): string | undefined {
  const first = branches[0];
  if (!isSchema(first) || !isSchema(first.properties)) return undefined;
  for (const tag of Object.keys(first.properties)) {
    const seen = new Set<string>();
    const ok = branches.every((b) => {
      if (!isSchema(b) || b.type !== "object" || !isSchema(b.properties) || !Array.isArray(b.required) || !b.required.includes(tag)) return false;
      const p = b.properties[tag];
      if (!isSchema(p) || typeof p.const !== "string" || seen.has(p.const)) return false;
      seen.add(p.const);
      return true;
    });
    if (ok) return tag;
  }
  return undefined;
}

/**
 * The body validator of a hot route: the schema compiled to JSON Schema and
 * checked by ajv (~0.1 µs for a chat request); zod runs only on a body ajv
 * refuses, to name the bad field exactly as validateBody does. In the
 * server's CPU profile under load, zod's parse of a chat request cost 6-9 µs
 * (0.9 µs in a microbenchmark): its shared parsing code has seen every schema
 * of the process and is megamorphic there.
 *
 * Only for schemas that are pure shape: JSON Schema has no refinements or
 * transforms, and z.toJSONSchema drops them silently. validate.test.ts holds
 * each schema used here to zod's verdict on a fuzzed corpus. The body is
 * returned as is: for JSON input, zod's output is an equal copy.
 */
export function shapeValidator<S extends z.ZodType>(schema: S): (body: unknown) => z.infer<S> {
  const fits = ajv.compile(withDiscriminators(z.toJSONSchema(schema, { target: "draft-7", io: "input", unrepresentable: "throw" })) as JsonSchema);
  return (body) => {
    if (body !== null && typeof body === "object" && !Array.isArray(body) && fits(body) && !tooDeep(body, MAX_DEPTH)) return body as z.infer<S>;
    return validateBody(schema, body);
  };
}

/** Deepest legitimate nesting (JSON schemas in tools/response_format stay far below this). */
const MAX_DEPTH = 128;

/** Whether any value in the parsed JSON is nested deeper than `max` levels (iterative: no recursion; no array per object visited). */
function tooDeep(root: unknown, max: number): boolean {
  const values: object[] = [];
  const depths: number[] = [];
  if (root !== null && typeof root === "object") values.push(root), depths.push(1);
  while (values.length) {
    const v = values.pop()!;
    const depth = depths.pop()!;
    if (depth > max) return true;
    if (Array.isArray(v)) {
      for (const child of v) if (child !== null && typeof child === "object") values.push(child), depths.push(depth + 1);
    } else {
      for (const k in v) {
        const child = (v as Record<string, unknown>)[k];
        if (child !== null && typeof child === "object") values.push(child), depths.push(depth + 1);
      }
    }
  }
  return false;
}
