// McpToolSource: a pipeline's MCP servers as tools. At start every server is
// connected and its tools listed; each becomes `<server>__<tool>` in the
// attached registries, with the server's JSON input schema (validated by the
// registry before a call) and the declared risk (so risky ones wait for a human
// approval). A server that cannot be reached at start is retried in the
// background with backoff until its tools are known; a server that dies later
// turns its calls into clear tool errors and is reconnected on the next call.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../../ops/index.js";
import { DEFAULT_TOOL_TIMEOUT_MS, ToolError } from "../registry.js";
import type { Tool, ToolTarget, ToolSource } from "../types.js";
import { McpConnection } from "./connection.js";
import { mcpToolName, type McpListedTool, type McpServerSpec } from "./types.js";

export interface McpToolSourceOptions {
  log: Logger;
  /** First and longest wait between attempts to list an unreachable server's tools (default 1 s, 60 s). */
  retryMs?: { min: number; max: number };
  /** Longest text given back to the model per call (default 100 000 characters). */
  maxResultChars?: number;
}

export interface McpServerStatus {
  server: string;
  transport: McpServerSpec["transport"];
  connected: boolean;
  /** Registered tool names (undefined until the server's tools were listed once). */
  tools: string[] | undefined;
  lastError?: string;
}

interface ServerEntry {
  conn: McpConnection;
  tools: Tool[] | undefined;
  lastError?: string;
  retryTimer?: NodeJS.Timeout;
  nextRetryMs: number;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** JSON-schema keys the registry's validator (draft-07) must not see: the dialect marker. */
function validatorSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest.type === undefined ? { type: "object", ...rest } : rest;
}

export class McpToolSource implements ToolSource {
  private readonly servers: ServerEntry[];
  private readonly targets: ToolTarget[] = [];
  private readonly retry: { min: number; max: number };
  private readonly maxChars: number;
  private closed = false;

  constructor(
    specs: readonly McpServerSpec[],
    private readonly opts: McpToolSourceOptions,
  ) {
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new Error(`MCP server "${s.name}" is declared twice`);
      names.add(s.name);
    }
    this.retry = opts.retryMs ?? { min: 1_000, max: 60_000 };
    this.maxChars = opts.maxResultChars ?? 100_000;
    this.servers = specs.map((spec) => ({ conn: new McpConnection(spec, opts.log), tools: undefined, nextRetryMs: this.retry.min }));
  }

  /** Connects every server and registers its tools; never rejects (failures are logged and retried). */
  async start(): Promise<void> {
    await Promise.all(this.servers.map((s) => this.discover(s)));
  }

  attach(target: ToolTarget): void {
    this.targets.push(target);
    for (const s of this.servers) for (const t of s.tools ?? []) this.register(target, t);
  }

  status(): McpServerStatus[] {
    return this.servers.map((s) => ({
      server: s.conn.spec.name,
      transport: s.conn.spec.transport,
      connected: s.conn.connected,
      tools: s.tools?.map((t) => t.definition.name),
      ...(s.lastError ? { lastError: s.lastError } : {}),
    }));
  }

  /** Stops retries and closes every connection (stdio processes are ended). */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.servers) clearTimeout(s.retryTimer);
    await Promise.all(this.servers.map((s) => s.conn.close()));
  }

  private async discover(s: ServerEntry): Promise<void> {
    const spec = s.conn.spec;
    try {
      const listed = await s.conn.listTools();
      s.tools = this.toolsOf(spec, s.conn, listed);
      s.lastError = undefined;
      for (const target of this.targets) for (const t of s.tools) this.register(target, t);
      this.opts.log.info({ mcp: spec.name, tools: s.tools.map((t) => t.definition.name) }, "MCP tools registered");
    } catch (e) {
      s.lastError = errorText(e);
      if (this.closed) return;
      this.opts.log.error({ mcp: spec.name, err: s.lastError, retryInMs: s.nextRetryMs }, "MCP server unavailable; its tools are not offered until it answers");
      s.retryTimer = setTimeout(() => void this.discover(s), s.nextRetryMs);
      s.retryTimer.unref();
      s.nextRetryMs = Math.min(this.retry.max, s.nextRetryMs * 2);
    }
  }

  private toolsOf(spec: McpServerSpec, conn: McpConnection, listed: McpListedTool[]): Tool[] {
    const allow = spec.allow ? new Set(spec.allow) : undefined;
    if (allow) {
      const missing = [...allow].filter((n) => !listed.some((t) => t.name === n));
      if (missing.length) this.opts.log.warn({ mcp: spec.name, missing }, "allowed MCP tools the server does not list");
    }
    const timeoutMs = spec.timeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
    return listed
      .filter((t) => !allow || allow.has(t.name))
      .map((t) => ({
        definition: {
          name: mcpToolName(spec.name, t.name),
          description: t.description ?? `${t.name} (MCP server ${spec.name})`,
          parameters: validatorSchema(t.inputSchema ?? {}),
          risk: spec.risk,
          timeoutMs,
        },
        run: async (args, ctx) => {
          let res: CallToolResult;
          try {
            res = await conn.call(t.name, args, ctx.signal, timeoutMs);
          } catch (e) {
            throw new ToolError("tool_failed", `MCP server "${spec.name}": ${errorText(e)}`, { cause: e });
          }
          return this.resultValue(spec.name, t.name, res);
        },
      }));
  }

  /** An MCP result as the value the model sees: structured content, else the text parts. */
  private resultValue(server: string, tool: string, res: CallToolResult): unknown {
    const parts = (res.content ?? []).map((c) => {
      if (c.type === "text") return c.text;
      if (c.type === "resource_link") return `[resource ${c.uri}]`;
      if (c.type === "resource") return "text" in c.resource ? String(c.resource.text) : `[resource ${c.resource.uri}]`;
      return `[${c.type}${"mimeType" in c ? ` ${String(c.mimeType)}` : ""}]`;
    });
    let text = parts.join("\n");
    if (text.length > this.maxChars) text = `${text.slice(0, this.maxChars)}… [truncated at ${this.maxChars} characters]`;
    if (res.isError) throw new ToolError("tool_failed", `MCP tool "${tool}" of server "${server}" reported an error: ${text || "(no details)"}`);
    if (res.structuredContent !== undefined) return res.structuredContent;
    return text;
  }

  private register(target: ToolTarget, tool: Tool): void {
    if (target.has(tool.definition.name)) return;
    try {
      target.register(tool);
    } catch (e) {
      this.opts.log.warn({ tool: tool.definition.name, err: errorText(e) }, "MCP tool not registered");
    }
  }
}
