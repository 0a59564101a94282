// A pipeline's server-side tools: the registry built from its `tools:` config,
// how a suspended run remembers where it came from (pipeline, session, user —
// encoded in the loop's runId, which is persisted with the approval), and the
// summary a resumed run reports.
import { randomUUID } from "node:crypto";
import type { McpServerConfig, PipelineToolsConfig } from "../config/schema.js";
import { Secret } from "../config/secret.js";
import type { SearchRequest, SearchResult } from "../retrieval/types.js";
import { documentSearchTool, httpGetTool, ToolRegistry, webhookTool, type McpServerSpec, type Tool, type ToolSource } from "../tools/index.js";

/** The assistant message of a run that waits for a human decision. */
export function pendingText(tool: string, approvalId: string): string {
  return `This needs approval before I can continue: ${tool} (approval ${approvalId}).`;
}

export interface ApprovalRef {
  id: string;
  status: "pending";
  tool: string;
  /** Unix seconds. */
  expires_at: number;
}

/** What resuming a run after a decision led to. */
export interface ResumeSummary {
  status: "completed" | "pending" | "failed" | "already_resumed";
  message?: string;
  /** When the resumed run stopped at another approval. */
  approval?: ApprovalRef;
}

export interface RunOrigin {
  pipeline: string;
  sessionId?: string;
  user?: string;
}

const RUN_PREFIX = "run_";

/** A fresh run id carrying its origin (so any process can resume the run and append to its session). */
export function encodeRunId(o: RunOrigin): string {
  const origin = Buffer.from(JSON.stringify({ p: o.pipeline, ...(o.sessionId ? { s: o.sessionId } : {}), ...(o.user ? { u: o.user } : {}) })).toString("base64url");
  return `${RUN_PREFIX}${randomUUID()}.${origin}`;
}

export function decodeRunId(runId: string): RunOrigin | undefined {
  if (!runId.startsWith(RUN_PREFIX)) return undefined;
  const dot = runId.indexOf(".");
  if (dot < 0) return undefined;
  try {
    const o = JSON.parse(Buffer.from(runId.slice(dot + 1), "base64url").toString("utf8")) as { p?: unknown; s?: unknown; u?: unknown };
    if (typeof o.p !== "string") return undefined;
    return { pipeline: o.p, ...(typeof o.s === "string" ? { sessionId: o.s } : {}), ...(typeof o.u === "string" ? { user: o.u } : {}) };
  } catch {
    return undefined;
  }
}

/** The pipeline's tools: built-ins (document_search over its collection in the caller's tenant, http_get) and webhooks. */
export function buildToolRegistry(
  tools: PipelineToolsConfig,
  opts: { collection: string; k: number; search(req: SearchRequest): Promise<SearchResult>; sources?: readonly ToolSource[] },
): ToolRegistry {
  const list: Tool[] = [];
  for (const b of tools.builtins) {
    if (b === "document_search") {
      list.push(
        documentSearchTool(async (query, k, ctx) => {
          const found = await opts.search({ tenant: ctx.tenant, collection: opts.collection, query, k });
          return found.hits.map((h) => ({ text: h.chunk.text, source: h.document.source, ...(h.document.title ? { title: h.document.title } : {}), score: Math.round(h.score * 1e4) / 1e4 }));
        }, { defaultK: opts.k }),
      );
    } else {
      list.push(httpGetTool({ allowDomains: b.http_get.allowDomains }));
    }
  }
  for (const w of tools.webhooks) {
    list.push(
      webhookTool({
        url: w.url,
        definition: { name: w.name, description: w.description, parameters: w.parameters, risk: w.risk },
        ...(w.allowPrivate ? { allowPrivate: true } : {}),
      }),
    );
  }
  const registry = new ToolRegistry(list);
  // MCP tools arrive as their servers list them (at start, or later when a server comes up).
  for (const source of opts.sources ?? []) source.attach(registry);
  return registry;
}

function revealAll(r: Record<string, string | Secret> | undefined): Record<string, string> | undefined {
  return r && Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v instanceof Secret ? v.reveal() : v]));
}

/** A pipeline's `tools.mcp` entries as the tools layer's server specs (env references resolved). */
export function mcpServerSpecs(servers: readonly McpServerConfig[]): McpServerSpec[] {
  return servers.map((m): McpServerSpec => {
    const base = { name: m.name, risk: m.risk, timeoutMs: m.timeoutMs, ...(m.allow ? { allow: m.allow } : {}) };
    if (m.transport === "stdio") {
      const env = revealAll(m.env);
      return { ...base, transport: "stdio", command: m.command, args: m.args, ...(env ? { env } : {}), ...(m.cwd ? { cwd: m.cwd } : {}) };
    }
    const headers = revealAll(m.headers);
    return { ...base, transport: "http", url: m.url, ...(headers ? { headers } : {}), ...(m.allowPrivate ? { allowPrivate: true } : {}) };
  });
}
