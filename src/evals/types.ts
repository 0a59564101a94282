// Eval types: dataset items (JSONL, validated line by line), per-item results
// and stored runs.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { MessageSchema, type ChatMessage } from "../protocol/openai.js";

const ItemShape = z.strictObject({
  id: z.union([z.string().min(1), z.number()]).optional(),
  messages: z.array(MessageSchema).min(1, "messages must contain at least one message").optional(),
  /** Shortcut for one user message. */
  input: z.string().min(1, "input must be a non-empty string").optional(),
  expected: z.string().optional(),
  facts: z.array(z.string().min(1)).optional(),
  relevant_ids: z.array(z.string().min(1)).optional(),
  tags: z.array(z.string()).optional(),
  /** Extension: the answer must match this regular expression (JavaScript syntax, flags via /re/i). */
  regex: z.string().optional(),
  /** Extension: the answer must be valid JSON. */
  json: z.boolean().optional(),
});

export const DatasetLineSchema = ItemShape.superRefine((v, ctx) => {
  if (!v.messages && v.input === undefined) ctx.addIssue({ code: "custom", message: 'either "messages" or "input" is required' });
  if (v.messages && v.input !== undefined) ctx.addIssue({ code: "custom", message: 'give "messages" or "input", not both' });
  if (v.regex !== undefined) {
    try {
      parseRegex(v.regex);
    } catch (e) {
      ctx.addIssue({ code: "custom", path: ["regex"], message: `invalid regular expression: ${(e as Error).message}` });
    }
  }
});

/** A validated dataset item: `input` expanded into messages, `id` always set. */
export interface EvalItem {
  id: string;
  messages: ChatMessage[];
  expected?: string;
  facts?: string[];
  relevant_ids?: string[];
  tags?: string[];
  regex?: string;
  json?: boolean;
}

export interface DatasetLineError {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export interface Dataset {
  items: EvalItem[];
  errors: DatasetLineError[];
}

/** "/re/flags" or a bare pattern. */
export function parseRegex(s: string): RegExp {
  const m = /^\/(.*)\/([dgimsuvy]*)$/s.exec(s);
  return m ? new RegExp(m[1]!, m[2]) : new RegExp(s);
}

/** Parses JSONL text. Bad lines are reported in `errors`, never thrown; blank lines and `#`/`//` comments are skipped. */
export function parseDataset(text: string): Dataset {
  const items: EvalItem[] = [];
  const errors: DatasetLineError[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith("//")) return;
    const n = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (e) {
      errors.push({ line: n, message: `invalid JSON: ${(e as Error).message}` });
      return;
    }
    const r = DatasetLineSchema.safeParse(json);
    if (!r.success) {
      errors.push({ line: n, message: r.error.issues.map((is) => `${is.path.length ? is.path.join(".") + ": " : ""}${is.message}`).join("; ") });
      return;
    }
    const v = r.data;
    const id = v.id !== undefined ? String(v.id) : `line-${n}`;
    if (seen.has(id)) {
      errors.push({ line: n, message: `duplicate id "${id}"` });
      return;
    }
    seen.add(id);
    const item: EvalItem = { id, messages: v.messages ?? [{ role: "user", content: v.input! } as ChatMessage] };
    if (v.expected !== undefined) item.expected = v.expected;
    if (v.facts) item.facts = v.facts;
    if (v.relevant_ids) item.relevant_ids = v.relevant_ids;
    if (v.tags) item.tags = v.tags;
    if (v.regex !== undefined) item.regex = v.regex;
    if (v.json !== undefined) item.json = v.json;
    items.push(item);
  });
  return { items, errors };
}

export function loadDataset(file: string): Dataset {
  return parseDataset(readFileSync(file, "utf8"));
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Citation fields the metrics read from `stratum.citations[]`. */
export interface CitationLike {
  chunk_id?: string;
  document_id?: string;
  text?: string;
}

/** What the metrics see of one answer. */
export interface EvalResponse {
  output: string;
  citations: CitationLike[];
  latencyMs: number;
  usage?: Usage;
}

export interface ItemResult {
  id: string;
  /** The last user message (for reports). */
  input: string;
  expected?: string;
  output: string;
  /** Metric name → value; a metric that does not apply to the item is absent. */
  metrics: Record<string, number>;
  latencyMs: number;
  usage?: Usage;
  error?: string;
  tags?: string[];
}

export interface EvalTarget {
  baseUrl: string;
  apiKey?: string;
  /** A model alias or pipeline, optionally `name@version` (passed through). */
  model: string;
}

export interface MetricSummary {
  mean: number;
  n: number;
}

export interface EvalRunSummary {
  id: string;
  createdAt: number;
  model: string;
  baseUrl: string;
  dataset: string;
  itemCount: number;
  errorCount: number;
  durationMs: number;
  summary: Record<string, MetricSummary>;
}

export interface EvalRun extends EvalRunSummary {
  items: ItemResult[];
}

/** Where runs are kept. */
export interface EvalStore {
  save(run: EvalRun): Promise<void>;
  /** Newest first, without the items. */
  list(): Promise<EvalRunSummary[]>;
  get(id: string): Promise<EvalRun | undefined>;
}
