// Exact-match response cache: a hash of the normalised request, scoped per
// tenant. Only fields that change the answer are part of the key (stream,
// stream_options and user are not).
import * as crypto from "node:crypto";
import type { CacheStore } from "../../data/types.js";
import type { ChatCompletion, ChatRequest } from "../../protocol/openai.js";

const KEY_FIELDS = [
  "messages",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "response_format",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
] as const;

/** One-shot `crypto.hash` where Node has it (20.12+): no Hash object per request. */
const sha256: (s: string) => string = crypto.hash
  ? (s) => crypto.hash("sha256", s, "base64url")
  : (s) => crypto.createHash("sha256").update(s).digest("base64url");

export interface ResponseCacheOptions {
  ttlMs: number;
  maxTemperature: number;
}

export class ResponseCache {
  constructor(
    private readonly store: CacheStore<ChatCompletion>,
    private readonly opts: ResponseCacheOptions,
  ) {}

  /** The cache key, or undefined when this request must not be cached. */
  keyFor(tenant: string, alias: string, req: ChatRequest): string | undefined {
    if ((req.temperature ?? 1) > this.opts.maxTemperature) return undefined;
    return `${tenant}:${requestHash(alias, req, req.messages)}`;
  }

  get(key: string): Promise<ChatCompletion | undefined> {
    return this.store.get(key);
  }

  set(key: string, value: ChatCompletion): Promise<void> {
    return this.store.set(key, value, this.opts.ttlMs);
  }
}

/** A hash of what changes the answer: the alias, `messages` (given separately) and the sampling fields. */
export function requestHash(alias: string, req: ChatRequest, messages: ChatRequest["messages"]): string {
  const picked: Record<string, unknown> = { model: alias, messages };
  for (const f of KEY_FIELDS) if (f !== "messages" && req[f] !== undefined && req[f] !== null) picked[f] = req[f];
  return sha256(stableStringify(picked));
}

/** JSON with object keys sorted, so logically equal requests hash equally. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return "[" + v.map(stableStringify).join(",") + "]";
  const keys = Object.keys(v as object).sort();
  return "{" + keys.filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => JSON.stringify(k) + ":" + stableStringify((v as Record<string, unknown>)[k])).join(",") + "}";
}
