// MCP servers (stdio and streamable HTTP) as tool sources of a pipeline.
export { McpToolSource, type McpToolSourceOptions, type McpServerStatus } from "./tool-source.js";
export { McpConnection, DEFAULT_MCP_CONNECT_TIMEOUT_MS } from "./connection.js";
export { mcpToolName, MCP_NAME_SEPARATOR, type McpServerSpec, type McpStdioServerSpec, type McpHttpServerSpec, type McpListedTool } from "./types.js";
