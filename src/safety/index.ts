// Safety: detectors, guardrails (input, retrieved passages, output), grounding.
export type * from "./types.js";
export { Guardrails, GuardrailRun, type GuardrailDecision, type GuardrailStage, type DetectorSet, type DecisionEvents, type DecisionListener } from "./guardrails.js";
export { groundingScore, type GroundingResult } from "./grounding.js";
export { PiiDetector, redact, restore, PII_ENTITIES, type PiiEntity, type RedactionMapping } from "./pii/index.js";
export { SecretsDetector, SECRET_TYPES } from "./secrets/index.js";
export { InjectionDetector, IndirectInjectionDetector, CanaryDetector, createCanary, type Canary } from "./injection/index.js";
export { ModerationClassifier, LlmJudgeModeration, HAZARD_CATEGORIES, type HazardCategory } from "./moderation/index.js";
