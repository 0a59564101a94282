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

const ajv = new Ajv({ strict: false });

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
  const fits = ajv.compile(z.toJSONSchema(schema, { target: "draft-7", io: "input", unrepresentable: "throw" }));
  return (body) => {
    if (body !== null && typeof body === "object" && !Array.isArray(body) && fits(body) && !tooDeep(body, MAX_DEPTH)) return body as z.infer<S>;
    return validateBody(schema, body);
  };
}

/** Deepest legitimate nesting (JSON schemas in tools/response_format stay far below this). */
const MAX_DEPTH = 128;

/** Whether any value in the parsed JSON is nested deeper than `max` levels (iterative: no recursion). */
function tooDeep(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    if (v === null || typeof v !== "object") continue;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}
