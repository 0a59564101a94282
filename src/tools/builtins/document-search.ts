// document_search: lets the model query the knowledge base through any search
// function (e.g. a Retriever bound to a tenant's collection).
import type { RiskLevel, Tool } from "../types.js";

export interface SearchHit {
  text: string;
  source?: string;
  score?: number;
  [key: string]: unknown;
}

export type SearchFn = (query: string, k: number, ctx: { tenant: string; signal: AbortSignal }) => Promise<readonly SearchHit[]>;

export interface DocumentSearchToolOptions {
  name?: string;
  description?: string;
  defaultK?: number;
  maxK?: number;
  risk?: RiskLevel;
  timeoutMs?: number;
}

export function documentSearchTool(search: SearchFn, opts: DocumentSearchToolOptions = {}): Tool {
  const maxK = opts.maxK ?? 20;
  const defaultK = Math.min(opts.defaultK ?? 5, maxK);
  return {
    definition: {
      name: opts.name ?? "document_search",
      description: opts.description ?? "Searches the document collection and returns the most relevant passages.",
      risk: opts.risk ?? "low",
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      parameters: {
        type: "object",
        properties: {
          query: { type: "string", minLength: 1, description: "What to search for" },
          k: { type: "integer", minimum: 1, maximum: maxK, description: `How many passages (default ${defaultK})` },
        },
        required: ["query"],
        additionalProperties: false,
      },
    },
    async run(args, ctx) {
      const { query, k } = args as { query: string; k?: number };
      const hits = await search(query, k ?? defaultK, { tenant: ctx.tenant, signal: ctx.signal });
      return { results: hits.slice(0, k ?? defaultK) };
    },
  };
}
