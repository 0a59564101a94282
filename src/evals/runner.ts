// Runs a dataset against a model or pipeline served by Stratum (or any
// OpenAI-compatible endpoint) over HTTP with bounded concurrency. An item that
// fails is recorded with its error; it never aborts the run.
import { randomUUID } from "node:crypto";
import { contentText } from "../protocol/openai.js";
import { mean } from "./bootstrap.js";
import { scoreItem, type PriceTable } from "./metrics/index.js";
import type { CitationLike, EvalItem, EvalRun, EvalTarget, ItemResult, MetricSummary, Usage } from "./types.js";

export interface RunProgress {
  done: number;
  total: number;
  errors: number;
  /** The item just finished. */
  item: ItemResult;
}

export interface RunOptions {
  /** Parallel requests (default 4). */
  concurrency?: number;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
  onProgress?: (p: RunProgress) => void;
  /** A name for the dataset in the stored run (e.g. its path). */
  dataset?: string;
  /** k for recall@k / nDCG@k (default 5). */
  k?: number;
  prices?: PriceTable;
  /** Extra request fields (temperature, seed, stratum...). Default: temperature 0. */
  requestExtras?: Record<string, unknown>;
  signal?: AbortSignal;
}

interface CallResult {
  output: string;
  citations: CitationLike[];
  usage?: Usage;
}

/** One chat completion, non-streaming. Throws with the HTTP status and the server's message on failure. */
export async function callChat(target: EvalTarget, item: EvalItem, opts: { timeoutMs?: number; extras?: Record<string, unknown>; signal?: AbortSignal } = {}): Promise<CallResult> {
  const url = `${target.baseUrl.replace(/\/+$/, "")}/v1/chat/completions`;
  const signals = [AbortSignal.timeout(opts.timeoutMs ?? 60_000), ...(opts.signal ? [opts.signal] : [])];
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  const res = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ temperature: 0, ...opts.extras, model: target.model, messages: item.messages, stream: false }),
    signal: AbortSignal.any(signals),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const msg = body?.error?.message ?? text.slice(0, 300);
    throw new Error(`HTTP ${res.status}: ${msg}`);
  }
  if (!body || !Array.isArray(body.choices)) throw new Error("malformed response: no choices");
  const msg = body.choices[0]?.message;
  const output = msg ? contentText(msg.content ?? "") : "";
  const citations: CitationLike[] = Array.isArray(body.stratum?.citations) ? body.stratum.citations : [];
  const u = body.usage;
  const usage = u && typeof u.prompt_tokens === "number" ? { prompt_tokens: u.prompt_tokens, completion_tokens: u.completion_tokens ?? 0, total_tokens: u.total_tokens ?? u.prompt_tokens + (u.completion_tokens ?? 0) } : undefined;
  return { output, citations, ...(usage ? { usage } : {}) };
}

function lastUserText(item: EvalItem): string {
  for (let i = item.messages.length - 1; i >= 0; i--) {
    const m = item.messages[i]!;
    if (m.role === "user") return contentText(m.content);
  }
  return "";
}

/** Mean and count of every metric over the items that have it. */
export function summarize(items: readonly ItemResult[]): Record<string, MetricSummary> {
  const by = new Map<string, number[]>();
  for (const it of items) for (const [k, v] of Object.entries(it.metrics)) {
    if (!Number.isFinite(v)) continue;
    let xs = by.get(k);
    if (!xs) by.set(k, (xs = []));
    xs.push(v);
  }
  const out: Record<string, MetricSummary> = {};
  for (const [k, xs] of by) out[k] = { mean: mean(xs), n: xs.length };
  return out;
}

export async function runEval(items: readonly EvalItem[], target: EvalTarget, opts: RunOptions = {}): Promise<EvalRun> {
  const started = Date.now();
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? 4));
  const results = new Array<ItemResult>(items.length);
  let next = 0;
  let done = 0;
  let errors = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      const item = items[i]!;
      const t0 = performance.now();
      let call: CallResult = { output: "", citations: [] };
      let error: string | undefined;
      try {
        if (opts.signal?.aborted) throw new Error("aborted");
        call = await callChat(target, item, { timeoutMs: opts.timeoutMs, extras: opts.requestExtras, signal: opts.signal });
      } catch (e) {
        const err = e as Error;
        error = err.name === "TimeoutError" ? `timeout after ${opts.timeoutMs ?? 60_000} ms` : err.message || String(e);
      }
      const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
      const metrics = scoreItem(item, { ...call, latencyMs, ...(error ? { error } : {}) }, { k: opts.k, prices: opts.prices, model: target.model });
      const r: ItemResult = { id: item.id, input: lastUserText(item), output: call.output, metrics, latencyMs };
      if (item.expected !== undefined) r.expected = item.expected;
      if (call.usage) r.usage = call.usage;
      if (error) r.error = error;
      if (item.tags) r.tags = item.tags;
      results[i] = r;
      done++;
      if (error) errors++;
      opts.onProgress?.({ done, total: items.length, errors, item: r });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, items.length)) }, worker));
  return {
    id: `run_${new Date(started).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")}_${randomUUID().slice(0, 8)}`,
    createdAt: started,
    model: target.model,
    baseUrl: target.baseUrl,
    dataset: opts.dataset ?? "",
    itemCount: items.length,
    errorCount: errors,
    durationMs: Date.now() - started,
    summary: summarize(results),
    items: results,
  };
}
