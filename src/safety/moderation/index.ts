export { HAZARD_CATEGORIES, HAZARD_DESCRIPTIONS, type HazardCategory } from "./taxonomy.js";
export { ModerationClassifier, repairSpelling, type CategoryScores, type ModerationOptions } from "./classifier.js";
export { LlmJudgeModeration, parseJudgeVerdict, type JudgeMessage, type JudgeResult, type LlmJudgeOptions } from "./judge.js";
