// Step pipelines: declarative steps with branches, budgets and fallbacks.
export { StepPipeline, type StepPipelineDeps } from "./step-pipeline.js";
export type { StepRecord, StepsPipelineConfig } from "./types.js";
