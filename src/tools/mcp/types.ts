// MCP servers as tool sources: what a pipeline declares per server. The config
// layer's `tools.mcp` entries map onto these (secrets already resolved).
import type { RiskLevel } from "../types.js";

interface McpServerBase {
  /** Prefix of the tools' names: `<name>__<tool>`. */
  name: string;
  /** Risk of every tool of this server (above the pipeline's threshold → human approval). */
  risk: RiskLevel;
  /** Only these tools of the server are offered (default: all it lists). */
  allow?: readonly string[];
  /** Per-call timeout (default 30 s). */
  timeoutMs?: number;
  /** Connecting (spawn + initialize + list) gives up after this (default 15 s). */
  connectTimeoutMs?: number;
}

export interface McpStdioServerSpec extends McpServerBase {
  transport: "stdio";
  command: string;
  args?: readonly string[];
  /** Added to the SDK's safe default environment (PATH, HOME, ...); the rest of ours is not passed on. */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
}

export interface McpHttpServerSpec extends McpServerBase {
  transport: "http";
  url: string;
  headers?: Readonly<Record<string, string>>;
  /** The server may be on a private/loopback address (off: the webhook tool's SSRF policy applies). */
  allowPrivate?: boolean;
  /** Exact non-public addresses allowed (an internal MCP server) while the rest stays refused. */
  allowAddresses?: readonly string[];
}

export type McpServerSpec = McpStdioServerSpec | McpHttpServerSpec;

/** A tool as an MCP server lists it. */
export interface McpListedTool {
  name: string;
  description?: string;
  inputSchema: Record<string, unknown>;
}

/** The separator between server and tool in a registered tool name. */
export const MCP_NAME_SEPARATOR = "__";

export function mcpToolName(server: string, tool: string): string {
  return `${server}${MCP_NAME_SEPARATOR}${tool}`;
}
