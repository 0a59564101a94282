// Safety: detectors find things in text (PII, secrets, injection attempts,
// hazardous content); guardrails turn findings into decisions (allow, redact,
// block, flag) per pipeline. Detectors are pure and fast (no I/O): they run on
// every message, input and output.

export type GuardrailAction = "allow" | "redact" | "block" | "flag";

/** One thing a detector found. Spans index into the text given to `detect`. */
export interface Finding {
  /** The detector that found it, e.g. "pii", "secrets", "injection", "moderation". */
  detector: string;
  /** What it is: an entity type ("EMAIL", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "PHONE", "API_KEY",
   * "PRIVATE_KEY", "JWT"), an attack family ("ignore_instructions", "role_play", "prompt_leak", ...), or a
   * hazard category ("violent_crimes", "hate", ...). */
  type: string;
  /** Character span [start, end) when the finding is located (PII, secrets); absent for whole-text verdicts. */
  start?: number;
  end?: number;
  /** Confidence in [0, 1]. */
  score: number;
}

export interface Detector {
  readonly name: string;
  detect(text: string): Finding[];
}

/** A detector that needs a model call (LLM judge, remote classifier): pluggable, async. */
export interface AsyncDetector {
  readonly name: string;
  detect(text: string, signal?: AbortSignal): Promise<Finding[]>;
}
