// Safety: detectors, guardrails (input, retrieved passages, output), grounding.
export type * from "./types.js";
export { Guardrails, GuardrailRun, type GuardrailDecision, type GuardrailStage, type DetectorSet } from "./guardrails.js";
export { groundingScore, type GroundingResult } from "./grounding.js";
