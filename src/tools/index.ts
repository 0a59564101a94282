// Server-side tools with human approval: registry, built-in tools, approval
// stores and the tool loop. Pipelines wire it in (pipelines/pipeline-tools.ts).
export type * from "./types.js";
export { RISK_RANK, riskAbove, SYSTEM_DECIDER } from "./types.js";
export { ToolRegistry, ToolError, isToolError, toolContent, DEFAULT_TOOL_TIMEOUT_MS, type ToolRegistryOptions } from "./registry.js";
export { SqliteApprovalStore, type SqliteApprovalStoreOptions } from "./sqlite/approval-store.js";
export { applyToolsSchema, TOOLS_SQLITE_SCHEMA } from "./sqlite/schema.js";
export { PgApprovalStore, migrateTools, type PgApprovalStoreOptions } from "./postgres/index.js";
export { httpGetTool, domainAllowed, HTTP_GET_DEFAULT_MAX_BYTES, type HttpGetToolOptions } from "./builtins/http-get.js";
export { documentSearchTool, type SearchFn, type SearchHit, type DocumentSearchToolOptions } from "./builtins/document-search.js";
export { webhookTool, type WebhookToolOptions } from "./builtins/webhook.js";
export { McpToolSource, mcpToolName, type McpToolSourceOptions, type McpServerStatus, type McpServerSpec } from "./mcp/index.js";
export {
  ToolLoop,
  DEFAULT_APPROVAL_TTL_MS,
  type CompleteFn,
  type CompleteResult,
  type ToolLoopBudgets,
  type ToolLoopOptions,
  type ToolLoopResult,
  type LoopUsage,
  type LoopErrorCode,
  type RunInput,
} from "./tool-loop.js";
