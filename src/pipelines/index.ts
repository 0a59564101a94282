// Orchestration: pipelines served as models, server-kept conversations.
export type { ChatBackend, Pipeline, PipelineTurnSignals, TurnContext, AnswerCitation } from "./types.js";
export { Orchestrator, type PipelineResolver } from "./orchestrator.js";
export { RagPipeline, NOT_IN_DOCUMENTS, type RagPipelineDeps } from "./rag-pipeline.js";
export { Conversations } from "./conversations.js";
export { buildToolRegistry, mcpServerSpecs, decodeRunId, encodeRunId, pendingText, type ApprovalRef, type ResumeSummary, type RunOrigin } from "./pipeline-tools.js";
export { promptRef, renderPrompt, type PromptTemplate, type PromptRef } from "./prompt-template.js";
export { StepPipeline, type StepPipelineDeps, type StepRecord } from "./steps/index.js";
