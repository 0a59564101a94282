// The gateway's backend: pipelines by name, everything else to the model
// layer. A plain model called with a session id gets its stored history
// prepended (oldest turns dropped to fit) and the new turn kept.
import type { ModelService, Served, ServeContext } from "../models/index.js";
import { tapIterator } from "../core/tap-iterator.js";
import { ChunkAccumulator } from "../protocol/chunks.js";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, ChatRequest, EmbeddingRequest, EmbeddingResponse } from "../protocol/openai.js";
import { fitContext } from "../sessions/index.js";
import type { Conversations } from "./conversations.js";
import { StructuredOutput } from "./structured-output.js";
import type { ChatBackend, Pipeline, TurnContext } from "./types.js";

/**
 * Pipelines served by version (the registry): `name`, `name@3`, `name@alias`.
 * Consulted before the static map; undefined when `model` is not one of them.
 */
export interface PipelineResolver {
  has(model: string): boolean;
  names(): string[];
  resolve(model: string, ctx: TurnContext): Promise<Pipeline | undefined>;
}

export class Orchestrator implements ChatBackend {
  private readonly structured: StructuredOutput;

  constructor(
    private readonly models: ModelService,
    private readonly pipelines: ReadonlyMap<string, Pipeline>,
    private readonly conversations: Conversations,
    private readonly sessionContextTokens: number,
    private readonly resolver?: PipelineResolver,
  ) {
    this.structured = new StructuredOutput(models);
  }

  hasModel(name: string): boolean {
    return this.pipelines.has(name) || (this.resolver?.has(name) ?? false) || this.models.hasModel(name);
  }

  modelNames(): string[] {
    return [...new Set([...this.models.modelNames(), ...this.pipelines.keys(), ...(this.resolver?.names() ?? [])])];
  }

  isPipeline(name: string): boolean {
    return this.pipelines.has(name) || (this.resolver?.has(name) ?? false);
  }

  /** The versioned pipeline for `name` when the resolver knows it, else the static one. */
  private async pipelineFor(name: string, ctx: TurnContext): Promise<Pipeline | undefined> {
    return (this.resolver ? await this.resolver.resolve(name, ctx) : undefined) ?? this.pipelines.get(name);
  }

  complete(name: string, req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    // A plain model call (no pipeline, no session) is the structured call's own promise: no async layer here.
    if (!ctx.sessionId && !this.isPipeline(name)) return this.structured.complete(name, req, ctx);
    return this.completeTurn(name, req, ctx);
  }

  private async completeTurn(name: string, req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const pipeline = await this.pipelineFor(name, ctx);
    if (pipeline) return pipeline.complete(req, pipelineTurn(ctx));
    if (!ctx.sessionId) return this.structured.complete(name, req, ctx);
    const { request, turn } = await this.withHistory(req, ctx);
    const served = await this.structured.complete(name, request, ctx);
    const message = served.result.choices[0]?.message;
    if (message) await this.conversations.append(ctx, [...turn, message as ChatMessage]);
    return served;
  }

  async stream(name: string, req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>> {
    const pipeline = await this.pipelineFor(name, ctx);
    if (pipeline) return pipeline.stream(req, pipelineTurn(ctx));
    if (!ctx.sessionId) return this.models.stream(name, req, ctx);
    const { request, turn } = await this.withHistory(req, ctx);
    const served = await this.models.stream(name, request, ctx);
    return { ...served, result: this.keepStreamed(served.result, turn, ctx) };
  }

  embed(name: string, req: EmbeddingRequest, ctx: ServeContext): Promise<Served<EmbeddingResponse>> {
    return this.models.embed(name, req, ctx);
  }

  private async withHistory(req: ChatRequest, ctx: TurnContext): Promise<{ request: ChatRequest; turn: ChatMessage[] }> {
    const stored = await this.conversations.load(ctx);
    const system = req.messages.filter((m) => m.role === "system" || m.role === "developer");
    const turn = req.messages.filter((m) => m.role !== "system" && m.role !== "developer");
    const reserve = req.max_completion_tokens ?? req.max_tokens ?? 1_024;
    const fitted = await fitContext({
      system,
      history: stored.messages,
      current: turn,
      ...(stored.summary ? { summary: stored.summary.text } : {}),
      contextTokens: this.sessionContextTokens,
      reserveOutputTokens: Math.min(reserve, Math.floor(this.sessionContextTokens / 2)),
      strategy: "drop",
    });
    return { request: { ...req, messages: fitted.messages }, turn };
  }

  private keepStreamed(source: AsyncIterable<ChatCompletionChunk>, turn: ChatMessage[], ctx: TurnContext): AsyncIterable<ChatCompletionChunk> {
    const acc = new ChunkAccumulator();
    return tapIterator(source, {
      value: (chunk) => (acc.push(chunk), chunk),
      end: async () => {
        if (!acc.finished) return;
        const calls = acc.toolCalls();
        await this.conversations.append(ctx, [...turn, { role: "assistant", content: acc.text, ...(calls.length ? { tool_calls: calls } : {}) } as ChatMessage]);
      },
    });
  }
}

/** Pipelines keep the conversation per end user when the client names no session. */
function pipelineTurn(ctx: TurnContext): TurnContext {
  return ctx.sessionId || !ctx.user ? ctx : { ...ctx, sessionId: `user:${ctx.user}` };
}
