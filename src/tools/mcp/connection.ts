// One MCP server's connection: connects on first use (spawning the stdio
// process or opening the streamable-HTTP session), forgets the connection when
// the server dies or the transport fails, and connects again on the next use.
// Nothing here throws past its caller: failures are errors with a message
// naming the server (and, for a process, the end of its stderr).
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { Logger } from "../../ops/index.js";
import { pinnedFetch, type PinnedFetch } from "./http-fetch.js";
import type { McpListedTool, McpServerSpec } from "./types.js";

export const DEFAULT_MCP_CONNECT_TIMEOUT_MS = 15_000;
const STDERR_TAIL_CHARS = 2_000;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// The SDK is loaded with the first connection: a gateway without MCP servers
// does not carry its modules (~3.5 MiB of heap).
type McpSdk = typeof import("@modelcontextprotocol/sdk/client/index.js") &
  typeof import("@modelcontextprotocol/sdk/client/stdio.js") &
  typeof import("@modelcontextprotocol/sdk/client/streamableHttp.js") &
  typeof import("@modelcontextprotocol/sdk/types.js");
let sdk: McpSdk | undefined;

async function loadSdk(): Promise<McpSdk> {
  const parts = await Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/stdio.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]);
  return (sdk ??= Object.assign({}, ...parts) as McpSdk);
}

/** True for failures of the link to the server (not errors the server answered with). */
function isConnectionFailure(e: unknown, signal?: AbortSignal): boolean {
  if (signal?.aborted) return false;
  // No SDK loaded means no connection was ever made, so no McpError either.
  if (sdk && e instanceof sdk.McpError) return e.code === sdk.ErrorCode.ConnectionClosed;
  return true;
}

export class McpConnection {
  private client: Client | undefined;
  private connecting: Promise<Client> | undefined;
  private pinned: PinnedFetch | undefined;
  private stderrTail = "";
  private closed = false;

  constructor(
    readonly spec: McpServerSpec,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.client !== undefined;
  }

  /** The connected client; connects (again) first when there is none. */
  ensure(): Promise<Client> {
    if (this.closed) return Promise.reject(new Error(`MCP server "${this.spec.name}" is shut down`));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Every tool the server lists (all pages). */
  async listTools(): Promise<McpListedTool[]> {
    const client = await this.ensure();
    const out: McpListedTool[] = [];
    let cursor: string | undefined;
    const timeout = this.spec.connectTimeoutMs ?? DEFAULT_MCP_CONNECT_TIMEOUT_MS;
    do {
      const page = await this.guard(client, () => client.listTools(cursor ? { cursor } : {}, { timeout }));
      for (const t of page.tools) out.push({ name: t.name, ...(t.description ? { description: t.description } : {}), inputSchema: t.inputSchema as Record<string, unknown> });
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  }

  /** Calls a tool; a dead link is dropped (the next call reconnects). */
  async call(tool: string, args: unknown, signal: AbortSignal, timeoutMs: number): Promise<CallToolResult> {
    const client = await this.ensure();
    return this.guard(
      client,
      async () => (await client.callTool({ name: tool, arguments: (args ?? {}) as Record<string, unknown> }, undefined, { signal, timeout: timeoutMs })) as CallToolResult,
      signal,
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.close().catch((err: unknown) => this.log.warn({ err, mcp: this.spec.name }, "closing MCP connection failed"));
    await this.pinned?.close().catch(() => undefined);
  }

  private async guard<T>(client: Client, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isConnectionFailure(e, signal)) this.drop(client, errorText(e));
      throw new Error(this.describe(errorText(e)), { cause: e });
    }
  }

  private describe(message: string): string {
    const tail = this.stderrTail.trim().split("\n").slice(-3).join(" | ");
    return `${message}${tail && !this.connected ? ` (server stderr: ${tail.slice(-500)})` : ""}`;
  }

  private drop(client: Client, why: string): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.log.warn({ mcp: this.spec.name, why }, "MCP server connection lost; reconnecting on next use");
    client.close().catch((err: unknown) => this.log.warn({ err, mcp: this.spec.name }, "closing a failed MCP connection failed"));
  }

  private async connect(): Promise<Client> {
    const spec = this.spec;
    const timeout = spec.connectTimeoutMs ?? DEFAULT_MCP_CONNECT_TIMEOUT_MS;
    this.stderrTail = "";
    const { Client, StdioClientTransport, StreamableHTTPClientTransport, getDefaultEnvironment } = await loadSdk();
    const client = new Client({ name: "stratum", version: "0.1.0" }, { capabilities: {} });
    client.onerror = (err) => this.log.debug({ err, mcp: spec.name }, "MCP transport error");
    let transport: StdioClientTransport | StreamableHTTPClientTransport;
    try {
      if (spec.transport === "stdio") {
        const stdio = new StdioClientTransport({
          command: spec.command,
          args: [...(spec.args ?? [])],
          env: { ...getDefaultEnvironment(), ...spec.env },
          ...(spec.cwd ? { cwd: spec.cwd } : {}),
          stderr: "pipe",
        });
        // Drained always (a full pipe would block the server); the tail explains a crash.
        stdio.stderr?.on("data", (d: Buffer) => {
          this.stderrTail = (this.stderrTail + d.toString("utf8")).slice(-STDERR_TAIL_CHARS);
        });
        transport = stdio;
      } else {
        const url = new URL(spec.url);
        await this.pinned?.close().catch(() => undefined);
        this.pinned = await pinnedFetch(url, { ...(spec.allowPrivate ? { allowPrivate: true } : {}), ...(spec.allowAddresses ? { allowAddresses: spec.allowAddresses } : {}) }, timeout);
        transport = new StreamableHTTPClientTransport(url, { fetch: this.pinned.fetch, requestInit: { headers: { ...spec.headers } } });
      }
      client.onclose = () => {
        if (this.client !== client) return;
        this.client = undefined;
        if (!this.closed) this.log.warn({ mcp: spec.name, stderr: this.stderrTail.slice(-500) || undefined }, "MCP server closed the connection; reconnecting on next use");
      };
      await client.connect(transport, { timeout });
    } catch (e) {
      await client.close().catch(() => undefined);
      throw new Error(`could not start MCP server "${spec.name}": ${this.describe(errorText(e))}`, { cause: e });
    }
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw new Error(`MCP server "${spec.name}" is shut down`);
    }
    this.client = client;
    this.log.info({ mcp: spec.name, transport: spec.transport, server: client.getServerVersion()?.name }, "MCP server connected");
    return client;
  }
}
