// A local GGUF model, run in this process by llama.cpp through node-llama-cpp.
// The package is optional (it is large, and most deployments call an HTTP
// upstream): Stratum installs without it, and a config naming a gguf provider
// fails at start, saying how to get it. The model loads in the background from
// start; calls wait for it. One llama.cpp context holds `parallel` sequences;
// a request takes a free one (or waits its turn), clears it, generates with the
// model's own chat template, and gives it back. Usage is llama.cpp's own count
// of the tokens it evaluated and sampled. JSON response formats constrain
// sampling with a llama.cpp grammar (any JSON, or JSON of the given schema).
// Embeddings (for an alias with `embeddings: true`) come from a second
// context, made on first use.
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { ConfigError } from "../../config/index.js";
import type { GgufProviderConfig } from "../../config/schema.js";
import { StratumError } from "../../core/errors.js";
import { PushQueue } from "../../core/push-queue.js";
import { unitVector } from "../../core/unit-vector.js";
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
import {
  ggufHeader,
  loadGguf,
  PACKAGE,
  packageInstalled,
  type EmbeddingContext,
  type Grammar,
  type HistoryItem,
  type LlamaChat,
  type Loaded,
  type PackageCheck,
  type Sequence,
} from "./gguf-binding.js";
import { SequenceSlots } from "./sequence-slots.js";
/** llama.cpp's server default; OpenAI's 1.0 is too random for most small local models. */
const DEFAULT_TEMPERATURE = 0.8;

/** Schemas whose grammars are kept (building one parses the schema and compiles GBNF). */
const GRAMMAR_CACHE = 32;

/** One request's hold on a sequence. */
interface Turn {
  seq: Sequence;
  chat: LlamaChat;
  history: HistoryItem[];
  /** Tokens of context left after the prompt. */
  room: number;
  /** Constrains the answer to JSON (response_format json_object / json_schema). */
  grammar: Grammar | undefined;
}

interface Generated {
  text: string;
  finish: FinishReason;
  usage: Usage;
}


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

  const loading = loadGguf(cfg, modelPath);
  loading.catch(() => {}); // reported to every call that waits for it
  const loadedModel = () =>
    loading.catch((e: unknown) => {
      throw new StratumError("UpstreamUnreachable", `gguf provider "${name}": the model ${modelPath} did not load: ${messageOf(e)}`, { cause: e });
    });
  let embedding: Promise<EmbeddingContext> | undefined;
  let embedQueue: Promise<unknown> = Promise.resolve();
  const slots = new SequenceSlots<Sequence>(
    loading.then((l) => Array.from({ length: cfg.parallel }, () => l.context.getSequence())),
    abortedError,
  );
  const grammars = new Map<string, Promise<Grammar>>();

  /** The grammar a JSON response format asks for; a schema llama.cpp cannot turn into one is the caller's 400. */
  async function grammarFor(loaded: Loaded, format: ChatRequest["response_format"]): Promise<Grammar | undefined> {
    if (!format || format.type === "text") return undefined;
    const schema = format.type === "json_schema" ? format.json_schema.schema : undefined;
    const key = schema ? JSON.stringify(schema) : "json";
    let made = grammars.get(key);
    if (!made) {
      made = schema ? loaded.llama.createGrammarForJsonSchema(schema) : loaded.llama.getGrammarFor("json");
      made.catch(() => grammars.delete(key));
      if (grammars.size >= GRAMMAR_CACHE) grammars.delete(grammars.keys().next().value!);
      grammars.set(key, made);
    }
    try {
      return await made;
    } catch (e) {
      throw new StratumError("InvalidRequest", `gguf provider "${name}" cannot constrain its answer to this JSON schema: ${messageOf(e)}`, {
        param: "response_format.json_schema.schema",
        code: "unsupported_parameter",
      });
    }
  }

  /**
   * Everything before the first byte (failover still possible): the request is servable, the model
   * loaded, a sequence free and cleared, the prompt measured and within the context.
   */
  async function begin(req: ChatRequest, ctx: CallContext): Promise<Turn> {
    refuseUnsupported(name, req);
    const loaded = await loadedModel();
    const seq = await slots.acquire(ctx);
    const chat = new loaded.LlamaChat({ contextSequence: seq, autoDisposeSequence: false });
    const turn: Turn = { seq, chat, history: toHistory(req), room: 0, grammar: undefined };
    try {
      turn.grammar = await grammarFor(loaded, req.response_format);
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
    const { seq, chat, history, room, grammar } = turn;
    try {
      const before = { input: seq.tokenMeter.usedInputTokens, output: seq.tokenMeter.usedOutputTokens };
      const stops = typeof req.stop === "string" ? [req.stop] : (req.stop ?? []);
      const res = await chat.generateResponse(history, {
        maxTokens: Math.min(maxOutputTokens(req) ?? room, room),
        temperature: req.temperature ?? DEFAULT_TEMPERATURE,
        ...(req.top_p != null ? { topP: req.top_p } : {}),
        ...(req.seed != null ? { seed: req.seed } : {}),
        ...(stops.length ? { customStopTriggers: stops } : {}),
        ...(grammar ? { grammar } : {}),
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
    const vec = Array.from(unitVector((await ec.getEmbeddingFor(input)).vector));
    if (req.dimensions !== undefined && req.dimensions !== vec.length) {
      throw new StratumError("InvalidRequest", `gguf provider "${name}"'s model makes ${vec.length}-dimensional embeddings; dimensions ${req.dimensions} cannot be served.`, { param: "dimensions" });
    }
    data.push({ object: "embedding", index, embedding: req.encoding_format === "base64" ? floatsToBase64(vec) : vec });
  }
  return { object: "list", data, model: req.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}


/** Requests the provider cannot serve faithfully are refused, not half-served. */
function refuseUnsupported(name: string, req: ChatRequest): void {
  const refuse = (param: string, what: string) => {
    throw new StratumError("InvalidRequest", `gguf provider "${name}" does not support ${what}.`, { param, code: "unsupported_parameter" });
  };
  if (req.tools?.length) refuse("tools", "tools");
  if (req.messages.some((m) => m.role === "tool" || (m.role === "assistant" && m.tool_calls?.length))) refuse("messages", "tool calls in the conversation");
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

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));
