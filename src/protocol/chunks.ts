// Conversions between a whole ChatCompletion and its stream of chunks: cached
// answers replay as streams, and streamed answers are assembled for caching
// and metering.
import type { ChatCompletion, ChatCompletionChunk, ChunkDelta, FinishReason, ToolCall, Usage } from "./openai.js";

/** The chunks of one streamed answer: one id, creation time and model for all of them. */
export class ChunkMaker {
  constructor(
    readonly id: string,
    readonly model: string,
    readonly created = Math.floor(Date.now() / 1000),
  ) {}

  /** A chunk of the one choice: a delta, and the finish reason on the last. */
  delta(delta: ChunkDelta, finish: FinishReason | null = null): ChatCompletionChunk {
    return { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [{ index: 0, delta, finish_reason: finish }] };
  }

  /** The usage chunk that ends a stream (`stream_options.include_usage`): no choices. */
  usage(usage: Usage): ChatCompletionChunk {
    return { id: this.id, object: "chat.completion.chunk", created: this.created, model: this.model, choices: [], usage };
  }
}

/** Split text into word-sized pieces (whitespace kept with the preceding word). */
export function splitForStreaming(text: string, maxPieces = 512): string[] {
  if (!text) return [];
  const pieces = text.match(/\S+\s*|\s+/g) ?? [text];
  if (pieces.length <= maxPieces) return pieces;
  // Bound the chunk count for very long texts: merge into maxPieces groups.
  const per = Math.ceil(pieces.length / maxPieces);
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i += per) out.push(pieces.slice(i, i + per).join(""));
  return out;
}

export function completionToChunks(c: ChatCompletion, includeUsage: boolean): ChatCompletionChunk[] {
  const make = new ChunkMaker(c.id, c.model, c.created);
  const choice = c.choices[0];
  const chunks: ChatCompletionChunk[] = [make.delta({ role: "assistant", content: "" })];
  for (const piece of splitForStreaming(choice?.message.content ?? "")) chunks.push(make.delta({ content: piece }));
  choice?.message.tool_calls?.forEach((tc, index) => {
    chunks.push(make.delta({ tool_calls: [{ index, id: tc.id, type: "function", function: { name: tc.function.name, arguments: tc.function.arguments } }] }));
  });
  chunks.push(make.delta({}, choice?.finish_reason ?? "stop"));
  if (includeUsage) chunks.push(make.usage(c.usage));
  return chunks;
}

/** Assembles streamed chunks back into one completion. Memory is bounded by the answer size. */
export class ChunkAccumulator {
  private id = "";
  private model = "";
  private created = 0;
  private readonly parts: string[] = [];
  private readonly tools: Array<{ id: string; name: string; args: string[] }> = [];
  private finish: FinishReason | null = null;
  usage: Usage | undefined;
  /** Time the first content or tool-call delta arrived (for TTFT). */
  firstContentAt: number | undefined;

  push(chunk: ChatCompletionChunk): void {
    if (!this.id) {
      this.id = chunk.id;
      this.model = chunk.model;
      this.created = chunk.created;
    }
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      const d = choice.delta;
      if (d.content) {
        this.parts.push(d.content);
        this.firstContentAt ??= performance.now();
      }
      if (d.tool_calls) {
        this.firstContentAt ??= performance.now();
        for (const tc of d.tool_calls) {
          const t = (this.tools[tc.index] ??= { id: "", name: "", args: [] });
          if (tc.id) t.id = tc.id;
          if (tc.function?.name) t.name += tc.function.name;
          if (tc.function?.arguments) t.args.push(tc.function.arguments);
        }
      }
      if (choice.finish_reason) this.finish = choice.finish_reason;
    }
  }

  /** The upstream's completion id (empty before the first chunk). */
  get completionId(): string {
    return this.id;
  }

  get text(): string {
    return this.parts.join("");
  }

  get finished(): boolean {
    return this.finish !== null;
  }

  toolCalls(): ToolCall[] {
    return this.tools.filter(Boolean).map((t) => ({ id: t.id, type: "function" as const, function: { name: t.name, arguments: t.args.join("") } }));
  }

  toCompletion(usage: Usage): ChatCompletion {
    const toolCalls = this.toolCalls();
    return {
      id: this.id,
      object: "chat.completion",
      created: this.created,
      model: this.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: this.parts.length || !toolCalls.length ? this.text : null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
          finish_reason: this.finish ?? "stop",
          logprobs: null,
        },
      ],
      usage,
    };
  }
}
