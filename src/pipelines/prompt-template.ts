// Versioned prompt templates: rendered with {{placeholders}}; every answer
// reports the template's name, version and content hash so a change of wording
// is visible in traces and evals even when someone forgets to bump the version.
import { createHash } from "node:crypto";

export interface PromptTemplate {
  name: string;
  version: string;
  text: string;
}

export interface PromptRef {
  name: string;
  version: string;
  hash: string;
}

export function promptRef(t: PromptTemplate): PromptRef {
  return { name: t.name, version: t.version, hash: createHash("sha256").update(t.text).digest("hex").slice(0, 12) };
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** Replace {{name}} placeholders; unknown names render empty. Single pass, so values are never re-expanded. */
export function renderPrompt(t: PromptTemplate, values: Record<string, string>): string {
  return t.text.replace(PLACEHOLDER, (_, k: string) => values[k] ?? "").replace(/\n{3,}/g, "\n\n").trim();
}
