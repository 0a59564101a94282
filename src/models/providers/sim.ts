// The "sim" provider: a simulated LLM for load tests, benchmarks and the Lab.
// Output is deterministic for a given prompt + seed so runs are reproducible;
// only the injected failures (error/rate-limit/hang rates) are random.
// The generator functions are exported so the standalone sim upstream
// (src/sim/server.ts) behaves exactly like the in-process provider.
import { seededRandom } from "../../core/seeded-random.js";
import { randomBytes } from "node:crypto";
import type { SimProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import {
  contentText,
  maxOutputTokens,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type ChunkDelta,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type FinishReason,
  type Tool,
  type ToolCall,
} from "../../protocol/openai.js";
import { ChunkMaker } from "../../protocol/chunks.js";
import { countPromptTokens, countTokens } from "../tokenizer.js";
import { embeddingInputs, floatsToBase64 } from "./embedding-wire.js";
import type { CallContext, ChatProvider } from "../provider.js";

// ---------------------------------------------------------------- hashing ---

/** FNV-1a, 32-bit: cheap and stable across runs and platforms. */
export function hashString(s: string, h = 0x811c9dc5): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Murmur3 finaliser: spreads combined seeds so nearby inputs diverge. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}


// ------------------------------------------------------------------- text ---

// Common English words. Only those that are exactly one o200k token in all
// three forms we emit ("Word", " word", " Word") are kept, and "." is its own
// pre-token, so a text of N pieces is exactly N tokens without re-tokenising.
const WORDS =
  "the a of and to in is that for it as with was on be by at this from or an are not have but they which one you were all we when there can more if out so what up about into than them only other its time some could these two may then first any like now my such make over our even most after also did many before must through back years where much your way well down should because each just those people how too little state good very world still own see men work long get here between both life being under never day same another know while last might great old year off come since against go came right used take three".split(
    " ",
  );
const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
// Built on first use so that importing the provider does not load the tokenizer.
let vocab: readonly string[] | undefined;
function simVocab(): readonly string[] {
  return (vocab ??= WORDS.filter((w) => countTokens(" " + w) === 1 && countTokens(" " + cap(w)) === 1 && countTokens(cap(w)) === 1));
}

export interface SimText {
  text: string;
  /** The text split into one-token pieces, for streaming. */
  pieces: string[];
}

/**
 * Deterministic pseudo-English of exactly `tokens` tokens (o200k): sentences
 * of 6–14 words. Every piece is one token and a separate pre-token, so the
 * count is exact by construction (the tests check it against the tokenizer).
 */
export function generateSimText(seed: number, tokens: number): SimText {
  const rnd = seededRandom(seed);
  const VOCAB = simVocab();
  const pieces: string[] = [];
  let sentenceLeft = 0;
  while (pieces.length < tokens) {
    const word = VOCAB[Math.floor(rnd() * VOCAB.length)]!;
    if (sentenceLeft === 0) {
      // Close the previous sentence unless that would be the very last token.
      if (pieces.length > 0) {
        pieces.push(".");
        if (pieces.length >= tokens) break;
      }
      pieces.push(pieces.length === 0 ? cap(word) : " " + cap(word));
      sentenceLeft = 5 + Math.floor(rnd() * 9);
    } else {
      pieces.push(" " + word);
      sentenceLeft--;
    }
  }
  return { text: pieces.join(""), pieces };
}

/** Keep the pieces covering the first `len` characters (the last one cut). */
function cutPieces(pieces: readonly string[], len: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const p of pieces) {
    if (used >= len) break;
    const take = p.length <= len - used ? p : p.slice(0, len - used);
    out.push(take);
    used += take.length;
  }
  return out;
}

/** Split arbitrary text into word-sized pieces (whitespace stays attached). */
export function wordPieces(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text ? [text] : []);
}

// --------------------------------------------------------- JSON placeholders ---

type Schema = Record<string, unknown>;

/**
 * A minimal value satisfying a JSON schema: strings "sim", numbers 1,
 * booleans true; objects get their required properties (all of them when
 * the schema lists none). Local $refs are followed; depth is bounded.
 */
export function placeholderFor(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!schema || typeof schema !== "object" || depth > 8) return "sim";
  const s = schema as Schema;
  if (typeof s.$ref === "string") {
    const m = /^#\/(\$defs|definitions)\/(.+)$/.exec(s.$ref);
    const target = m && root && typeof root === "object" ? ((root as Schema)[m[1]!] as Schema | undefined)?.[m[2]!] : undefined;
    return placeholderFor(target, root, depth + 1);
  }
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  if ("const" in s) return s.const;
  for (const key of ["anyOf", "oneOf", "allOf"] as const) {
    const alts = s[key];
    if (Array.isArray(alts) && alts.length > 0) {
      const pick = alts.find((a) => !(a && typeof a === "object" && (a as Schema).type === "null")) ?? alts[0];
      return placeholderFor(pick, root, depth + 1);
    }
  }
  let type = s.type;
  if (Array.isArray(type)) type = type.find((t) => t !== "null") ?? "null";
  if (type === undefined) type = s.properties ? "object" : s.items ? "array" : "string";
  switch (type) {
    case "number":
    case "integer":
      return typeof s.minimum === "number" ? Math.ceil(s.minimum) : 1;
    case "boolean":
      return true;
    case "null":
      return null;
    case "array": {
      const n = typeof s.minItems === "number" ? Math.min(s.minItems, 8) : 0;
      return Array.from({ length: n }, () => placeholderFor(s.items, root, depth + 1));
    }
    case "object": {
      const props = (s.properties && typeof s.properties === "object" ? s.properties : {}) as Schema;
      const required = Array.isArray(s.required) ? (s.required as unknown[]).filter((k): k is string => typeof k === "string") : Object.keys(props);
      const out: Record<string, unknown> = {};
      for (const k of required) out[k] = placeholderFor(props[k], root, depth + 1);
      return out;
    }
    default:
      return "sim";
  }
}

// ------------------------------------------------------------- chat planning ---

/** Everything a sim answer consists of; rendered as JSON, SSE or Anthropic events. */
export interface SimPlan {
  content: string | null;
  /** Content split for streaming (one token / word each). */
  pieces: string[];
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** The stop string that cut the output, if any (Anthropic's stop_sequence). */
  stopSequence: string | null;
  promptTokens: number;
  completionTokens: number;
}

export interface SimPlanOptions {
  outputTokens: number;
  seed?: number;
}

function lastUserText(req: ChatRequest): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === "user") return contentText(m.content);
  }
  return "";
}

/** Which tool (if any) the sim "decides" to call. */
function pickTool(req: ChatRequest, question: string): Tool | undefined {
  const tools = req.tools;
  if (!tools?.length || req.tool_choice === "none") return undefined;
  const choice = req.tool_choice;
  if (choice && typeof choice === "object") {
    const named = tools.find((t) => t.function.name === choice.function.name);
    if (!named) {
      throw new StratumError("InvalidRequest", `tool_choice names function "${choice.function.name}" which is not in tools`, { param: "tool_choice" });
    }
    return named;
  }
  const q = question.toLowerCase();
  const mentioned = tools.find((t) => q.includes(t.function.name.toLowerCase()));
  if (choice === "required") return mentioned ?? tools[0];
  // "auto" (the default with tools) calls only in answer to a user turn: after a
  // tool result the sim answers in text, so agent loops terminate.
  return req.messages[req.messages.length - 1]?.role === "user" ? mentioned : undefined;
}

let idSeq = 0;
const ID_PREFIX = randomBytes(4).toString("hex");
/** Unique, cheap ids (no crypto per request). */
export function simId(prefix: string): string {
  return `${prefix}${ID_PREFIX}${(++idSeq).toString(36)}`;
}

/** The deterministic seed of a request: last user message + config seed + request seed. */
export function requestSeed(req: ChatRequest, cfgSeed?: number): number {
  return mix(hashString(lastUserText(req)) ^ Math.imul(cfgSeed ?? 0, 0x9e3779b1) ^ Math.imul(req.seed ?? 0, 0x85ebca77));
}

/**
 * Decide the whole answer up front. The text is exactly
 * min(outputTokens, max tokens) tokens before `stop` truncation; JSON modes
 * and tool calls are not length-capped (a cut JSON would be invalid).
 */
export function planSimChat(req: ChatRequest, opts: SimPlanOptions): SimPlan {
  const question = lastUserText(req);
  const seed = requestSeed(req, opts.seed);
  const promptTokens = countPromptTokens(req);
  const tool = pickTool(req, question);
  if (tool) {
    const args = JSON.stringify(placeholderFor(tool.function.parameters ?? { type: "object", properties: {} }));
    const call: ToolCall = { id: `call_${mix(seed).toString(36)}${(seed & 0xffff).toString(36)}`, type: "function", function: { name: tool.function.name, arguments: args } };
    return {
      content: null,
      pieces: [],
      toolCalls: [call],
      finishReason: "tool_calls",
      stopSequence: null,
      promptTokens,
      completionTokens: countTokens(tool.function.name) + countTokens(args),
    };
  }

  const limit = maxOutputTokens(req);
  const fmt = req.response_format;
  if (fmt && fmt.type !== "text") {
    let value: unknown;
    if (fmt.type === "json_schema") {
      const schema = (fmt as { json_schema?: { schema?: unknown } }).json_schema?.schema;
      value = placeholderFor(schema ?? { type: "object", properties: {} });
    } else {
      value = { result: generateSimText(seed, Math.min(opts.outputTokens, limit ?? Infinity)).text };
    }
    const content = JSON.stringify(value);
    return { content, pieces: wordPieces(content), toolCalls: [], finishReason: "stop", stopSequence: null, promptTokens, completionTokens: countTokens(content) };
  }

  const n = Math.min(opts.outputTokens, limit ?? Infinity);
  const gen = generateSimText(seed, n);
  let { text, pieces } = gen;
  let finishReason: FinishReason = limit !== undefined && limit < opts.outputTokens ? "length" : "stop";
  let stopSequence: string | null = null;
  const stops = req.stop == null ? [] : typeof req.stop === "string" ? [req.stop] : req.stop;
  let cut = -1;
  for (const s of stops) {
    if (!s) continue;
    const at = text.indexOf(s);
    if (at >= 0 && (cut < 0 || at < cut)) {
      cut = at;
      stopSequence = s;
    }
  }
  if (cut >= 0) {
    text = text.slice(0, cut);
    pieces = cutPieces(pieces, cut);
    finishReason = "stop";
  }
  return { content: text, pieces, toolCalls: [], finishReason, stopSequence, promptTokens, completionTokens: countTokens(text) };
}

// ---------------------------------------------------------------- embeddings ---

const WORD_VECTORS = new Map<string, Float32Array>();
const WORD_VECTOR_CACHE_MAX = 50_000;

function wordVector(key: string, dims: number, seed: number): Float32Array {
  const cacheKey = `${dims}:${seed}:${key}`;
  let v = WORD_VECTORS.get(cacheKey);
  if (!v) {
    const rnd = seededRandom(mix(hashString(key) ^ Math.imul(seed, 0x9e3779b1)));
    v = new Float32Array(dims);
    for (let i = 0; i < dims; i++) v[i] = rnd() * 2 - 1;
    if (WORD_VECTORS.size >= WORD_VECTOR_CACHE_MAX) WORD_VECTORS.clear(); // crude bound; refills fast
    WORD_VECTORS.set(cacheKey, v);
  }
  return v;
}

/**
 * A unit vector for a text: the sum of per-word random vectors (a
 * bag-of-hashed-words random projection), so texts sharing words point in
 * similar directions. Token-id inputs hash each id as a word.
 */
export function embedText(input: string | readonly number[], dims: number, seed = 0): number[] {
  const words = typeof input === "string" ? (input.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) : input.map((t) => `#${t}`);
  const acc = new Float64Array(dims);
  for (const w of words.length ? words : [""]) {
    const v = wordVector(w, dims, seed);
    for (let i = 0; i < dims; i++) acc[i]! += v[i]!;
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += acc[i]! * acc[i]!;
  norm = Math.sqrt(norm) || 1;
  const out = new Array<number>(dims);
  for (let i = 0; i < dims; i++) out[i] = acc[i]! / norm;
  return out;
}


export const MAX_DIMENSIONS = 8192;

export function simEmbeddings(req: EmbeddingRequest, opts: { dimensions: number; seed?: number }): EmbeddingResponse {
  const dims = req.dimensions ?? opts.dimensions;
  // Vectors are built in memory per input; refuse absurd sizes rather than allocate them.
  if (dims > MAX_DIMENSIONS) throw new StratumError("InvalidRequest", `dimensions must be at most ${MAX_DIMENSIONS}`, { param: "dimensions" });
  const base64 = req.encoding_format === "base64";
  let tokens = 0;
  const data = embeddingInputs(req.input).map((item, index) => {
    tokens += typeof item === "string" ? countTokens(item) : item.length;
    const vec = embedText(item, dims, opts.seed ?? 0);
    return { object: "embedding" as const, index, embedding: base64 ? floatsToBase64(vec) : vec };
  });
  return { object: "list", data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

// ------------------------------------------------------------ timing / abort ---

/** The error an aborted sim call ends with: the abort reason if it is ours, else UpstreamTimeout. */
export function abortError(signal: AbortSignal | undefined): StratumError {
  const reason: unknown = signal?.reason;
  if (reason instanceof StratumError) return reason;
  return new StratumError("UpstreamTimeout", "sim: request aborted before completion", { cause: reason });
}

/** setTimeout as a promise that rejects (and clears its timer) on abort. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Never resolves; rejects when the signal aborts (a hung upstream). */
export function waitForAbort(signal: AbortSignal): Promise<never> {
  if (signal.aborted) return Promise.reject(abortError(signal));
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(abortError(signal)), { once: true }));
}

/**
 * Paces chunk i at start + i/tokensPerSecond. Scheduling against absolute
 * time keeps the average rate right even when timers fire late, and sub-ms
 * gaps are emitted without a timer; a rate of 0 never sleeps.
 */
export function createPacer(tokensPerSecond: number, signal?: AbortSignal) {
  const interval = tokensPerSecond > 0 ? 1000 / tokensPerSecond : 0;
  let start = performance.now();
  return {
    /** Restart the clock (call when the first chunk goes out). */
    reset(): void {
      start = performance.now();
    },
    /** ms to wait before chunk i; 0 means send now. */
    delayFor(i: number): number {
      if (interval === 0) return 0;
      const d = start + i * interval - performance.now();
      return d >= 1 ? d : 0;
    },
    sleep(ms: number): Promise<void> {
      return abortableSleep(ms, signal);
    },
  };
}

// ------------------------------------------------------------------ provider ---

export type SimFault = "error" | "rateLimit" | "hang" | null;

/** One draw decides the fault, so the rates are exact and mutually exclusive. */
export function drawFault(cfg: Pick<SimProviderConfig, "errorRate" | "rateLimitRate" | "hangRate">, random: () => number = Math.random): SimFault {
  if (cfg.errorRate + cfg.rateLimitRate + cfg.hangRate === 0) return null;
  const r = random();
  if (r < cfg.errorRate) return "error";
  if (r < cfg.errorRate + cfg.rateLimitRate) return "rateLimit";
  if (r < cfg.errorRate + cfg.rateLimitRate + cfg.hangRate) return "hang";
  return null;
}

export interface SimProviderOptions {
  /** Source of randomness for fault injection (tests pin it). */
  random?: () => number;
}

export function createSimProvider(name: string, cfg: SimProviderConfig, opts: SimProviderOptions = {}): ChatProvider {
  const random = opts.random ?? Math.random;
  const planOpts: SimPlanOptions = { outputTokens: cfg.outputTokens, seed: cfg.seed };

  /** Injected failures happen where a real upstream's would: before any output. */
  async function admit(ctx: CallContext): Promise<void> {
    if (ctx.signal.aborted) throw abortError(ctx.signal);
    switch (drawFault(cfg, random)) {
      case "error":
        throw new StratumError("UpstreamError", `sim provider "${name}": simulated upstream error`, { upstreamStatus: 500 });
      case "rateLimit":
        throw new StratumError("UpstreamRateLimited", `sim provider "${name}": simulated rate limit`, {
          upstreamStatus: 429,
          retryAfterMs: cfg.retryAfterSeconds * 1000,
        });
      case "hang":
        await waitForAbort(ctx.signal);
    }
  }

  return {
    type: "sim",

    async chat(req, ctx) {
      await admit(ctx);
      const plan = planSimChat(req, planOpts);
      // A non-streamed answer arrives when the whole generation would have finished.
      const genMs = cfg.tokensPerSecond > 0 ? (plan.completionTokens / cfg.tokensPerSecond) * 1000 : 0;
      if (cfg.ttftMs + genMs >= 1) await abortableSleep(cfg.ttftMs + genMs, ctx.signal);
      const completion: ChatCompletion = {
        id: simId("chatcmpl-sim-"),
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: req.model,
        choices: [
          {
            index: 0,
            message: plan.toolCalls.length
              ? { role: "assistant", content: null, tool_calls: plan.toolCalls }
              : { role: "assistant", content: plan.content },
            finish_reason: plan.finishReason,
            logprobs: null,
          },
        ],
        usage: { prompt_tokens: plan.promptTokens, completion_tokens: plan.completionTokens, total_tokens: plan.promptTokens + plan.completionTokens },
      };
      return completion;
    },

    async stream(req, ctx) {
      await admit(ctx);
      const plan = planSimChat(req, planOpts);
      return simChunks(req.model, plan, cfg, ctx.signal);
    },

    async embed(req, ctx) {
      await admit(ctx);
      return simEmbeddings(req, { dimensions: cfg.embeddingDimensions, seed: cfg.seed });
    },
  };
}

/** The streamed form of a plan, paced by ttftMs / tokensPerSecond; always ends with a usage chunk. */
async function* simChunks(
  model: string,
  plan: SimPlan,
  cfg: Pick<SimProviderConfig, "ttftMs" | "tokensPerSecond">,
  signal: AbortSignal,
): AsyncGenerator<ChatCompletionChunk> {
  const make = new ChunkMaker(simId("chatcmpl-sim-"), model);
  const chunk = (delta: ChunkDelta, finish?: FinishReason) => make.delta(delta, finish);

  if (cfg.ttftMs > 0) await abortableSleep(cfg.ttftMs, signal);
  else if (signal.aborted) throw abortError(signal);
  yield chunk({ role: "assistant", content: "" });

  const pacer = createPacer(cfg.tokensPerSecond, signal);
  if (plan.toolCalls.length) {
    for (const [index, call] of plan.toolCalls.entries()) {
      yield chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.function.name, arguments: "" } }] });
      yield chunk({ tool_calls: [{ index, function: { arguments: call.function.arguments } }] });
    }
  } else {
    for (let i = 0; i < plan.pieces.length; i++) {
      const wait = pacer.delayFor(i + 1);
      if (wait > 0) await pacer.sleep(wait);
      else if (signal.aborted) throw abortError(signal);
      yield chunk({ content: plan.pieces[i]! });
    }
  }
  if (signal.aborted) throw abortError(signal);
  yield chunk({}, plan.finishReason);
  yield make.usage({ prompt_tokens: plan.promptTokens, completion_tokens: plan.completionTokens, total_tokens: plan.promptTokens + plan.completionTokens });
}
