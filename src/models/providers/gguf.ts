// A local GGUF model, run in this process by llama.cpp through node-llama-cpp.
// The package is optional (it is large, and most deployments call an HTTP
// upstream): Stratum installs without it, and a config naming a gguf provider
// fails at start, saying how to get it. The model loads in the background from
// start; calls wait for it. One llama.cpp context holds `parallel` sequences;
// a request takes a free one (or waits its turn), clears it, generates with the
// model's own chat template, and gives it back. Usage is llama.cpp's own count
// of the tokens it evaluated and sampled. Embeddings (for an alias with
// `embeddings: true`) come from a second context, made on first use.
import { randomUUID } from "node:crypto";
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve as resolvePath } from "node:path";
import { ConfigError } from "../../config/index.js";
import type { GgufProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import { PushQueue } from "../../core/push-queue.js";
import {
  contentText,
  maxOutputTokens,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  type EmbeddingRequest,
  type EmbeddingResponse,
  type FinishReason,
  type Usage,
} from "../../protocol/openai.js";
import { ChunkMaker } from "../../protocol/chunks.js";
import type { CallContext, ChatProvider } from "../provider.js";
import { embeddingInputs, floatsToBase64 } from "./embedding-wire.js";

const PACKAGE = "node-llama-cpp";
/** llama.cpp's server default; OpenAI's 1.0 is too random for most small local models. */
const DEFAULT_TEMPERATURE = 0.8;

// The part of node-llama-cpp used here, typed locally: the package (and so its types) may be absent.
interface NodeLlamaCpp {
  getLlama(opts: { gpu: GgufProviderConfig["gpu"]; build: "never"; logLevel: "error"; progressLogs: false }): Promise<Llama>;
  LlamaChat: new (opts: { contextSequence: Sequence; autoDisposeSequence: false }) => LlamaChat;
}
interface Llama {
  loadModel(opts: { modelPath: string }): Promise<Model>;
  dispose(): Promise<void>;
}
interface Model {
  readonly trainContextSize: number;
  readonly tokenizer: unknown;
  tokenize(text: string): unknown[];
  createContext(opts: { contextSize: number; sequences: number; threads: number }): Promise<Context>;
  createEmbeddingContext(opts: { contextSize: number; threads: number }): Promise<EmbeddingContext>;
  dispose(): Promise<void>;
}
interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
interface EmbeddingContext {
  getEmbeddingFor(input: string | readonly number[]): Promise<{ readonly vector: readonly number[] }>;
  dispose(): Promise<void>;
}
interface Sequence {
  readonly tokenMeter: { readonly usedInputTokens: number; readonly usedOutputTokens: number };
  clearHistory(): Promise<void>;
}
type HistoryItem = { type: "system"; text: string } | { type: "user"; text: string } | { type: "model"; response: string[] };
interface LlamaChat {
  readonly chatWrapper: { generateContextState(o: { chatHistory: HistoryItem[] }): { contextText: { tokenize(tokenizer: unknown): unknown[] } } };
  generateResponse(
    history: HistoryItem[],
    opts: {
      maxTokens: number;
      temperature: number;
      topP?: number;
      seed?: number;
      customStopTriggers?: string[];
      signal: AbortSignal;
      onTextChunk(text: string): void;
    },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose(opts: { disposeSequence: false }): void;
}

/** One request's hold on a sequence. */
interface Turn {
  seq: Sequence;
  chat: LlamaChat;
  history: HistoryItem[];
  /** Tokens of context left after the prompt. */
  room: number;
}

interface Generated {
  text: string;
  finish: FinishReason;
  usage: Usage;
}

interface Loaded {
  llama: Llama;
  model: Model;
  context: Context;
  contextSize: number;
  threads: number;
  LlamaChat: NodeLlamaCpp["LlamaChat"];
}

/**
 * Whether node-llama-cpp can be imported from here. A function so tests can
 * check the message a missing package gives without uninstalling it.
 */
export type PackageCheck = () => boolean;
const packageInstalled: PackageCheck = () => {
  try {
    import.meta.resolve(PACKAGE);
    return true;
  } catch {
    return false;
  }
};

export function createGgufProvider(name: string, cfg: GgufProviderConfig, hasPackage: PackageCheck = packageInstalled): ChatProvider {
  const modelPath = resolvePath(cfg.modelPath);
  if (!existsSync(modelPath)) throw new ConfigError("Invalid configuration", [`providers.${name}.modelPath: no file at ${modelPath}`]);
  // node-llama-cpp 3.22 never settles loading a file that is not GGUF at all: refuse it here.
  const header = ggufHeader(modelPath);
  if (header) throw new ConfigError("Invalid configuration", [`providers.${name}.modelPath: ${modelPath} ${header}`]);
  if (!hasPackage()) {
    throw new ConfigError(`Provider "${name}" (type gguf) needs the optional package ${PACKAGE}, which is not installed.`, [
      `install it next to Stratum: npm i ${PACKAGE}@^3.22`,
    ]);
  }

  const loading = load(cfg, modelPath);
  loading.catch(() => {}); // reported to every call that waits for it
  const loadedModel = () =>
    loading.catch((e: unknown) => {
      throw new StratumError("UpstreamUnreachable", `gguf provider "${name}": the model ${modelPath} did not load: ${messageOf(e)}`, { cause: e });
    });
  let embedding: Promise<EmbeddingContext> | undefined;
  let embedQueue: Promise<unknown> = Promise.resolve();
  const slots = new SequenceSlots(loading.then((l) => Array.from({ length: cfg.parallel }, () => l.context.getSequence())));

  /**
   * Everything before the first byte (failover still possible): the request is servable, the model
   * loaded, a sequence free and cleared, the prompt measured and within the context.
   */
  async function begin(req: ChatRequest, ctx: CallContext): Promise<Turn> {
    refuseUnsupported(name, req);
    const loaded = await loadedModel();
    const seq = await slots.acquire(ctx);
    const chat = new loaded.LlamaChat({ contextSequence: seq, autoDisposeSequence: false });
    const turn: Turn = { seq, chat, history: toHistory(req), room: 0 };
    try {
      await seq.clearHistory(); // each request is whole; the meter then counts exactly its tokens
      // The prompt as the model's chat template renders it must fit, with room for one token. One
      // that does not is refused (as OpenAI does), never shortened behind the client's back; the
      // answer stops at the context's end (finish_reason length).
      const promptTokens = chat.chatWrapper.generateContextState({ chatHistory: turn.history }).contextText.tokenize(loaded.model.tokenizer).length;
      turn.room = loaded.contextSize - promptTokens;
      if (turn.room < 1) {
        throw new StratumError("InvalidRequest", `The prompt is ${promptTokens} tokens; gguf provider "${name}"'s context holds ${loaded.contextSize}.`, {
          code: "context_length_exceeded",
          param: "messages",
        });
      }
      return turn;
    } catch (e) {
      finish(turn);
      throw generationError(name, e, ctx);
    }
  }

  /** Gives the turn's sequence back. */
  function finish(turn: Turn): void {
    turn.chat.dispose({ disposeSequence: false });
    slots.release(turn.seq);
  }

  /** Generates the turn's answer, then finishes it. `stop` aborts too (a stream's reader that left). */
  async function run(turn: Turn, req: ChatRequest, ctx: CallContext, onText: (text: string) => void, stop?: AbortSignal): Promise<Generated> {
    const { seq, chat, history, room } = turn;
    try {
      const before = { input: seq.tokenMeter.usedInputTokens, output: seq.tokenMeter.usedOutputTokens };
      const stops = typeof req.stop === "string" ? [req.stop] : (req.stop ?? []);
      const res = await chat.generateResponse(history, {
        maxTokens: Math.min(maxOutputTokens(req) ?? room, room),
        temperature: req.temperature ?? DEFAULT_TEMPERATURE,
        ...(req.top_p != null ? { topP: req.top_p } : {}),
        ...(req.seed != null ? { seed: req.seed } : {}),
        ...(stops.length ? { customStopTriggers: stops } : {}),
        signal: stop ? AbortSignal.any([ctx.signal, stop]) : ctx.signal,
        onTextChunk: onText,
      });
      const prompt = seq.tokenMeter.usedInputTokens - before.input;
      const completion = seq.tokenMeter.usedOutputTokens - before.output;
      return {
        text: res.response,
        finish: res.metadata.stopReason === "maxTokens" ? "length" : "stop",
        usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
      };
    } catch (e) {
      throw generationError(name, e, ctx);
    } finally {
      finish(turn);
    }
  }

  return {
    type: "gguf",

    async chat(req, ctx) {
      const r = await run(await begin(req, ctx), req, ctx, () => {});
      return {
        id: `chatcmpl-gguf-${randomUUID()}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: req.model,
        choices: [{ index: 0, message: { role: "assistant", content: r.text }, finish_reason: r.finish, logprobs: null }],
        usage: r.usage,
      } satisfies ChatCompletion;
    },

    async stream(req, ctx) {
      const turn = await begin(req, ctx);
      const make = new ChunkMaker(`chatcmpl-gguf-${randomUUID()}`, req.model);
      // A reader that stops early (the client left) stops the generation.
      const readerLeft = new AbortController();
      const out = new PushQueue<ChatCompletionChunk>(() => readerLeft.abort(new Error("the stream's reader stopped")));
      out.push(make.delta({ role: "assistant", content: "" }));
      run(turn, req, ctx, (text) => text && out.push(make.delta({ content: text })), readerLeft.signal).then(
        (r) => {
          out.push(make.delta({}, r.finish));
          out.push(make.usage(r.usage));
          out.end();
        },
        (e: unknown) => out.fail(e),
      );
      return out;
    },

    async embed(req, ctx) {
      const loaded = await loadedModel();
      // Its own context, made on first use (a chat-only deployment never pays for it); one input at a time.
      if (!embedding) {
        const made = loaded.model.createEmbeddingContext({ contextSize: loaded.contextSize, threads: loaded.threads });
        made.catch(() => (embedding = undefined)); // the next call tries again
        embedding = made;
      }
      const ec = await embedding;
      const inputs = embeddingInputs(req.input);
      const run = embedQueue.then(() => embedAll(name, loaded, ec, inputs, req, ctx));
      embedQueue = run.catch(() => {});
      return run;
    },

    async close() {
      const l = await loading.catch(() => undefined);
      if (!l) return;
      await (await embedding?.catch(() => undefined))?.dispose();
      await l.context.dispose();
      await l.model.dispose();
      await l.llama.dispose();
    },
  };
}

async function load(cfg: GgufProviderConfig, modelPath: string): Promise<Loaded> {
  const specifier = PACKAGE; // a variable: the package's types are not needed (nor maybe present) at build time
  const mod = (await import(specifier)) as NodeLlamaCpp;
  // build "never": a missing prebuilt binary is an error here, not a download and a compile.
  const llama = await mod.getLlama({ gpu: cfg.gpu, build: "never", logLevel: "error", progressLogs: false });
  const model = await llama.loadModel({ modelPath });
  const contextSize = Math.min(cfg.contextSize, model.trainContextSize);
  // One core is left to the event loop: llama.cpp's worker threads spin while they wait, and on a
  // 2-core machine two of them made a tiny model 100x slower (170 ms a token instead of 1).
  const threads = cfg.threads ?? Math.max(1, availableParallelism() - 1);
  const context = await model.createContext({ contextSize, sequences: cfg.parallel, threads });
  return { llama, model, context, contextSize, threads, LlamaChat: mod.LlamaChat };
}

/** OpenAI's embeddings response: unit vectors (as OpenAI's and llama.cpp's server's are), usage in tokens. */
async function embedAll(name: string, loaded: Loaded, ec: EmbeddingContext, inputs: Array<string | number[]>, req: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
  let tokens = 0;
  const data: EmbeddingResponse["data"] = [];
  for (const [index, input] of inputs.entries()) {
    if (ctx.signal.aborted) throw abortedError(ctx.signal.reason);
    const n = typeof input === "string" ? loaded.model.tokenize(input).length : input.length;
    if (n > loaded.contextSize) {
      throw new StratumError("InvalidRequest", `Input ${index} is ${n} tokens; gguf provider "${name}"'s context holds ${loaded.contextSize}.`, { param: "input", code: "context_length_exceeded" });
    }
    tokens += n;
    const vec = unit((await ec.getEmbeddingFor(input)).vector);
    if (req.dimensions !== undefined && req.dimensions !== vec.length) {
      throw new StratumError("InvalidRequest", `gguf provider "${name}"'s model makes ${vec.length}-dimensional embeddings; dimensions ${req.dimensions} cannot be served.`, { param: "dimensions" });
    }
    data.push({ object: "embedding", index, embedding: req.encoding_format === "base64" ? floatsToBase64(vec) : vec });
  }
  return { object: "list", data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}

function unit(v: readonly number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  return Array.from(v, (x) => x / norm);
}

/** Free sequences of the context, and the requests waiting for one, in order. */
class SequenceSlots {
  private free: Sequence[] | undefined;
  private readonly waiters: Array<{ take(s: Sequence): void; ctx: CallContext }> = [];

  constructor(created: Promise<Sequence[]>) {
    created.then(
      (seqs) => {
        this.free = [];
        for (const s of seqs) this.release(s);
      },
      () => {}, // begin() reports the load failure before it asks for a slot
    );
  }

  acquire(ctx: CallContext): Promise<Sequence> {
    const s = this.free?.pop();
    if (s) return Promise.resolve(s);
    return new Promise((resolve, reject) => {
      const w = {
        ctx,
        take: (seq: Sequence) => {
          stop();
          resolve(seq);
        },
      };
      const stop = ctx.onAbort((why) => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(abortedError(why));
      });
      this.waiters.push(w);
    });
  }

  release(s: Sequence): void {
    const next = this.waiters.shift();
    if (next) next.take(s);
    else this.free?.push(s);
  }
}

/** Requests the provider cannot serve faithfully are refused, not half-served. */
function refuseUnsupported(name: string, req: ChatRequest): void {
  const refuse = (param: string, what: string) => {
    throw new StratumError("InvalidRequest", `gguf provider "${name}" does not support ${what}.`, { param, code: "unsupported_parameter" });
  };
  if (req.tools?.length) refuse("tools", "tools");
  if (req.messages.some((m) => m.role === "tool" || (m.role === "assistant" && m.tool_calls?.length))) refuse("messages", "tool calls in the conversation");
  if (req.response_format && req.response_format.type !== "text") refuse("response_format", `response_format ${req.response_format.type}`);
}

/** OpenAI messages as node-llama-cpp's chat history (system and developer → system). */
function toHistory(req: ChatRequest): HistoryItem[] {
  return req.messages.map((m): HistoryItem => {
    const text = contentText(m.content);
    if (m.role === "system" || m.role === "developer") return { type: "system", text };
    if (m.role === "assistant") return { type: "model", response: [text] };
    return { type: "user", text };
  });
}

function abortedError(why: unknown): StratumError {
  return why instanceof StratumError ? why : new StratumError("UpstreamTimeout", "gguf: request aborted before completion", { cause: why });
}

function generationError(name: string, e: unknown, ctx: CallContext): StratumError {
  if (e instanceof StratumError) return e;
  if (ctx.signal.aborted) return abortedError(ctx.signal.reason);
  return new StratumError("UpstreamError", `gguf provider "${name}": generation failed: ${messageOf(e)}`, { cause: e });
}

/** Why the file is not a GGUF model llama.cpp reads (undefined when its header is fine). */
function ggufHeader(path: string): string | undefined {
  const b = Buffer.alloc(8);
  const fd = openSync(path, "r");
  try {
    if (readSync(fd, b, 0, 8, 0) < 8) return "is too short to be a GGUF model";
  } finally {
    closeSync(fd);
  }
  if (b.toString("latin1", 0, 4) !== "GGUF") return "is not a GGUF model (it does not start with GGUF)";
  const version = b.readUInt32LE(4);
  return version === 2 || version === 3 ? undefined : `has GGUF version ${version}; llama.cpp reads versions 2 and 3`;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
