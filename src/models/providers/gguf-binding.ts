// What the gguf provider uses of node-llama-cpp: the package is optional, so its
// types may be absent at build time and are declared here; the import, the
// model load and the context it serves from; and the header check that keeps
// node-llama-cpp from a file that is not GGUF at all.
import { closeSync, openSync, readSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { GgufProviderConfig } from "../../config/schema.js";

export const PACKAGE = "node-llama-cpp";

// The part of node-llama-cpp's API the provider uses.
export interface NodeLlamaCpp {
  getLlama(opts: { gpu: GgufProviderConfig["gpu"]; build: "never"; logLevel: "error"; progressLogs: false }): Promise<Llama>;
  LlamaChat: new (opts: { contextSequence: Sequence; autoDisposeSequence: false }) => LlamaChat;
}
export interface Llama {
  loadModel(opts: { modelPath: string }): Promise<Model>;
  /** llama.cpp's grammar for any JSON value. */
  getGrammarFor(type: "json"): Promise<Grammar>;
  /** A grammar that only admits JSON matching the schema (node-llama-cpp's subset of JSON Schema). */
  createGrammarForJsonSchema(schema: Record<string, unknown>): Promise<Grammar>;
  dispose(): Promise<void>;
}
/** A GBNF grammar that constrains sampling; opaque here. */
export interface Grammar {
  readonly grammar: string;
}
export interface Model {
  readonly trainContextSize: number;
  readonly tokenizer: unknown;
  tokenize(text: string): unknown[];
  createContext(opts: { contextSize: number; sequences: number; threads: number }): Promise<Context>;
  createEmbeddingContext(opts: { contextSize: number; threads: number }): Promise<EmbeddingContext>;
  dispose(): Promise<void>;
}
export interface Context {
  getSequence(): Sequence;
  dispose(): Promise<void>;
}
export interface EmbeddingContext {
  getEmbeddingFor(input: string | readonly number[]): Promise<{ readonly vector: readonly number[] }>;
  dispose(): Promise<void>;
}
export interface Sequence {
  readonly tokenMeter: { readonly usedInputTokens: number; readonly usedOutputTokens: number };
  clearHistory(): Promise<void>;
}
export type HistoryItem = { type: "system"; text: string } | { type: "user"; text: string } | { type: "model"; response: string[] };
export interface LlamaChat {
  readonly chatWrapper: { generateContextState(o: { chatHistory: HistoryItem[] }): { contextText: { tokenize(tokenizer: unknown): unknown[] } } };
  generateResponse(
    history: HistoryItem[],
    opts: {
      maxTokens: number;
      temperature: number;
      topP?: number;
      seed?: number;
      customStopTriggers?: string[];
      grammar?: Grammar;
      signal: AbortSignal;
      onTextChunk(text: string): void;
    },
  ): Promise<{ response: string; metadata: { stopReason: string } }>;
  dispose(opts: { disposeSequence: false }): void;
}

/** A loaded model: the library, the model, its chat context and the settings it was made with. */
export interface Loaded {
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
export const packageInstalled: PackageCheck = () => {
  try {
    import.meta.resolve(PACKAGE);
    return true;
  } catch {
    return false;
  }
};

/** Imports node-llama-cpp, loads the model and makes its chat context. */
export async function loadGguf(cfg: GgufProviderConfig, modelPath: string): Promise<Loaded> {
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

/** Why the file is not a GGUF model llama.cpp reads (undefined when its header is fine). */
export function ggufHeader(path: string): string | undefined {
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
