import type { z } from "zod";
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
