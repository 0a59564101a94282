// How one served request of a version counts in rollout stats: an error (a
// server-side failure, or the version's route failed and another alias
// answered), a guardrail block (refused input, withheld output), its latency,
// text and cost.
import { isStratumError } from "../core/errors.js";
import { contentText, type ChatCompletion } from "../protocol/openai.js";

export interface Outcome {
  latencyMs: number;
  error: boolean;
  blocked: boolean;
  text: string;
  costUsd: number;
  /** The client went away: not counted. */
  aborted?: boolean;
  errorMessage?: string;
}

const CLIENT_KINDS = new Set(["InvalidRequest", "Unauthorized", "Forbidden", "NotFound", "PayloadTooLarge", "RateLimited", "BudgetExceeded"]);

export function failedOutcome(e: unknown, latencyMs: number, aborted: boolean): Outcome {
  const blocked = isStratumError(e) && e.kind === "GuardrailBlocked";
  const error = !blocked && !(isStratumError(e) && CLIENT_KINDS.has(e.kind));
  return { latencyMs, error, blocked, text: "", costUsd: 0, aborted, errorMessage: e instanceof Error ? e.message : String(e) };
}

export function completionText(c: ChatCompletion): string {
  return contentText(c.choices[0]?.message.content ?? "");
}

export function wasWithheld(c: ChatCompletion): boolean {
  return c.choices[0]?.finish_reason === "content_filter";
}
