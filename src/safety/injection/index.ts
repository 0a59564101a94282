export { InjectionDetector, IndirectInjectionDetector, analyzeWith, type InjectionAnalysis, type InjectionDetectorOptions } from "./detector.js";
export { CanaryDetector, createCanary, type Canary } from "./canary.js";
export { normalizeText, squash, decodeEmbedded } from "./normalize.js";
export type { InjectionFamily } from "./patterns.js";
