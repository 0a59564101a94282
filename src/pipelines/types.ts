// Orchestration contracts. The gateway talks to a ChatBackend: model aliases
// and pipelines look the same to it (a pipeline is served as a model).
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, EmbeddingRequest, EmbeddingResponse } from "../protocol/openai.js";
import type { Served, ServeContext } from "../models/index.js";

export interface TurnContext extends ServeContext {
  /** Conversation kept server-side under this id (X-Session-Id, or `user` for pipelines). */
  sessionId?: string;
  /** The end user (OpenAI `user`), for long-term memory. */
  user?: string;
}

export interface ChatBackend {
  hasModel(name: string): boolean;
  modelNames(): string[];
  complete(name: string, req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>>;
  /** Resolves at the first chunk; the iterator yields the rest. */
  stream(name: string, req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>>;
  embed(name: string, req: EmbeddingRequest, ctx: ServeContext): Promise<Served<EmbeddingResponse>>;
}

/** What a pipeline reports about each answered turn (drift monitoring listens). */
export interface PipelineTurnSignals {
  pipeline: string;
  question: string;
  confidence: number;
  abstained: boolean;
  grounding?: number;
}

/** A pipeline served under a model name. */
export interface Pipeline {
  readonly name: string;
  complete(req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>>;
  stream(req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>>;
}

/** Structured citation attached to an answer (`stratum.citations`). */
export interface AnswerCitation {
  /** The marker number used in the text: [1], [2]... */
  index: number;
  chunk_id: string;
  document_id: string;
  source: string;
  title: string;
  headings: string[];
  /** Character offsets of the passage in the document's extracted text. */
  start: number;
  end: number;
  score: number;
  text: string;
}
