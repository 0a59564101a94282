// What a spec of each kind must look like: pipeline configs are validated by
// the config file's PipelineSchema, prompts by PromptTemplateSchema, routes by
// ModelAliasSchema. The stored spec is the parsed one (defaults filled in), so
// two spellings of the same config hash alike.
import type { z } from "zod";
import { ModelAliasSchema, PipelineSchema, PromptTemplateSchema } from "../config/schema.js";
import { StratumError } from "../core/errors.js";
import type { RegistryKind } from "./types.js";

/** Entry names: no whitespace, `@` (it separates a version) or `/`. */
export const ENTRY_NAME = /^[^\s@/]{1,128}$/;
/** Alias names: letters, digits, _ . -, not all digits (`name@3` is a version). */
export const ALIAS_NAME = /^(?![0-9]+$)[A-Za-z0-9_.-]{1,64}$/;

export interface SpecChecks {
  /** Whether a model alias exists (pipelines name their route). */
  hasRoute?(name: string): boolean;
}

export function checkEntryName(name: string, param = "name"): void {
  if (!ENTRY_NAME.test(name)) throw new StratumError("InvalidRequest", `Invalid ${param} "${name.slice(0, 80)}": 1-128 characters without whitespace, @ or /`, { param, code: "invalid_value" });
}

export function checkAliasName(alias: string, param = "alias"): void {
  if (!ALIAS_NAME.test(alias)) throw new StratumError("InvalidRequest", `Invalid ${param} "${alias.slice(0, 80)}": 1-64 letters, digits, _ . - (not only digits)`, { param, code: "invalid_value" });
}

/** Validates and normalises a spec; errors name the field as `spec.<path>`. */
export function normalizeSpec(kind: RegistryKind, name: string, spec: unknown, checks: SpecChecks = {}): unknown {
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) throw invalid("spec", "must be a JSON object");
  const given = (spec as { name?: unknown }).name;
  if (kind !== "prompt" && given !== undefined && given !== name) throw invalid("spec.name", `must be "${name}" (the entry's name) or left out`);
  switch (kind) {
    case "pipeline": {
      const p = parse(PipelineSchema, { ...spec, name });
      if (checks.hasRoute && !checks.hasRoute(p.route)) throw invalid("spec.route", `unknown model alias "${p.route}"`);
      return p;
    }
    case "prompt":
      return parse(PromptTemplateSchema, spec);
    case "route":
      return parse(ModelAliasSchema, { ...spec, name });
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw invalid(["spec", ...issue.path.map(String)].join("."), issue.message);
}

function invalid(param: string, message: string): StratumError {
  return new StratumError("InvalidRequest", `Invalid value for '${param}': ${message}`, { param, code: "invalid_value" });
}
