import type { z } from "zod";
import { StratumError } from "../core/errors.js";

/** Parse a request body with a schema; the error names the first bad field as `param`. */
export function validateBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new StratumError("InvalidRequest", "The request body must be a JSON object.", { code: "invalid_body" });
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = formatParam(issue.path);
  const more = r.error.issues.length > 1 ? ` (and ${r.error.issues.length - 1} more problem${r.error.issues.length > 2 ? "s" : ""})` : "";
  throw new StratumError("InvalidRequest", `Invalid value for '${param || "body"}': ${issue.message}${more}`, { param: param || null, code: "invalid_value" });
}

function formatParam(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}
