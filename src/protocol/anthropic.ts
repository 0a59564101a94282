// Anthropic Messages API <-> Stratum's canonical (OpenAI-shaped) format, both
// directions: the gateway's inbound POST /v1/messages translates in, the
// Anthropic provider translates out, and the stream codecs do the same for SSE.
import { z } from "zod";
import { StratumError, type ErrorKind } from "../core/errors.js";
import {
  contentText,
  maxOutputTokens,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatMessage,
  type ChatRequest,
  type ChunkDelta,
  type ContentPart,
  type FinishReason,
  type ToolCall,
  type Usage,
} from "./openai.js";
import { ChunkMaker } from "./chunks.js";
import { sseEvent, type SSEEvent } from "./sse.js";

// ---------------------------------------------------------------- schemas

const TextBlock = z.looseObject({ type: z.literal("text"), text: z.string() });
const ImageSource = z.union([
  z.looseObject({ type: z.literal("base64"), media_type: z.string(), data: z.string() }),
  z.looseObject({ type: z.literal("url"), url: z.string() }),
]);
const ImageBlock = z.looseObject({ type: z.literal("image"), source: ImageSource });
const ToolUseBlock = z.looseObject({
  type: z.literal("tool_use"),
  id: z.string(),
  name: z.string(),
  input: z.record(z.string(), z.unknown()),
});
const ToolResultBlock = z.looseObject({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.union([z.string(), z.array(z.union([TextBlock, ImageBlock]))]).optional(),
  is_error: z.boolean().optional(),
});
// Clients replay thinking blocks in history; they are accepted and dropped.
const ThinkingBlock = z.looseObject({ type: z.literal("thinking"), thinking: z.string() });
const RedactedThinkingBlock = z.looseObject({ type: z.literal("redacted_thinking"), data: z.string() });

export const AnthropicContentBlockSchema = z.discriminatedUnion("type", [
  TextBlock,
  ImageBlock,
  ToolUseBlock,
  ToolResultBlock,
  ThinkingBlock,
  RedactedThinkingBlock,
]);

export const AnthropicMessageParamSchema = z.looseObject({
  role: z.enum(["user", "assistant"]),
  content: z.union([z.string(), z.array(AnthropicContentBlockSchema)]),
});

export const AnthropicToolSchema = z.looseObject({
  name: z.string().min(1),
  description: z.string().optional(),
  input_schema: z.record(z.string(), z.unknown()),
});

export const AnthropicToolChoiceSchema = z
  .looseObject({
    type: z.enum(["auto", "any", "tool", "none"]),
    name: z.string().optional(),
    disable_parallel_tool_use: z.boolean().optional(),
  })
  .refine((c) => c.type !== "tool" || !!c.name, { message: "tool_choice.name is required when type is tool", path: ["name"] });

export const AnthropicRequestSchema = z.looseObject({
  model: z.string().min(1, "model must be a non-empty string"),
  max_tokens: z.number().int().positive(),
  messages: z.array(AnthropicMessageParamSchema).min(1, "messages must contain at least one message"),
  system: z.union([z.string(), z.array(TextBlock)]).optional(),
  stop_sequences: z.array(z.string()).optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().min(0).optional(),
  stream: z.boolean().optional(),
  tools: z.array(AnthropicToolSchema).optional(),
  tool_choice: AnthropicToolChoiceSchema.optional(),
  metadata: z.looseObject({ user_id: z.string().nullable().optional() }).optional(),
});

export type AnthropicContentBlock = z.infer<typeof AnthropicContentBlockSchema>;
export type AnthropicMessageParam = z.infer<typeof AnthropicMessageParamSchema>;
export type AnthropicRequest = z.infer<typeof AnthropicRequestSchema>;

export type AnthropicStopReason = "end_turn" | "max_tokens" | "stop_sequence" | "tool_use" | "pause_turn" | "refusal";

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export type AnthropicResponseBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "thinking"; thinking: string; signature?: string }
  | { type: "redacted_thinking"; data: string };

export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: AnthropicResponseBlock[];
  stop_reason: AnthropicStopReason | null;
  stop_sequence: string | null;
  usage: AnthropicUsage;
}

export type AnthropicErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

// ---------------------------------------------------------------- mappings

export function finishReasonFromAnthropic(r: string | null | undefined): FinishReason {
  switch (r) {
    case "max_tokens":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default: // end_turn, stop_sequence, pause_turn, null
      return "stop";
  }
}

export function stopReasonFromFinish(r: FinishReason | null | undefined): AnthropicStopReason {
  switch (r) {
    case "length":
      return "max_tokens";
    case "tool_calls":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

/** Anthropic's input_tokens excludes cached tokens; OpenAI's prompt_tokens includes them. */
function promptTokensOf(u: Partial<AnthropicUsage> | undefined): number {
  if (!u) return 0;
  return (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
}

function usageFrom(prompt: number, completion: number): Usage {
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

const ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** The HTTP status Anthropic uses for an error type (500 when unknown). */
export function anthropicErrorStatus(type: string): number {
  return ERROR_STATUS[type] ?? 500;
}

/**
 * The Anthropic error type for a Stratum error. When the gateway already
 * decided the HTTP status, pass it: the type then matches the status.
 */
export function anthropicErrorType(kind: ErrorKind, httpStatus?: number): AnthropicErrorType {
  if (httpStatus !== undefined) {
    if (httpStatus === 400 || httpStatus === 422) return "invalid_request_error";
    if (httpStatus === 401) return "authentication_error";
    if (httpStatus === 402 || httpStatus === 403) return "permission_error";
    if (httpStatus === 404) return "not_found_error";
    if (httpStatus === 413) return "request_too_large";
    if (httpStatus === 429) return "rate_limit_error";
    if (httpStatus === 503 || httpStatus === 529) return "overloaded_error";
    if (httpStatus >= 500) return "api_error";
    if (httpStatus >= 400) return "invalid_request_error";
  }
  switch (kind) {
    case "InvalidRequest":
      return "invalid_request_error";
    case "Unauthorized":
      return "authentication_error";
    case "Forbidden":
      return "permission_error";
    case "NotFound":
      return "not_found_error";
    case "PayloadTooLarge":
      return "request_too_large";
    case "RateLimited":
    case "UpstreamRateLimited":
    case "BudgetExceeded":
    case "ConcurrencyLimited":
      return "rate_limit_error";
    case "CircuitOpen":
    case "Unavailable":
    case "AllRoutesFailed":
    case "UpstreamUnreachable":
    case "UpstreamTimeout":
      return "overloaded_error";
    default:
      return "api_error";
  }
}

export function anthropicErrorBody(type: string, message: string): { type: "error"; error: { type: string; message: string } } {
  return { type: "error", error: { type, message } };
}

/** An error reported by Anthropic (error event or body) as a StratumError. */
export function anthropicUpstreamError(err: unknown): StratumError {
  const e = (err && typeof err === "object" ? err : {}) as { type?: unknown; message?: unknown };
  const type = typeof e.type === "string" ? e.type : "api_error";
  const message = `upstream ${type}: ${typeof e.message === "string" ? e.message : "unknown error"}`;
  const status = anthropicErrorStatus(type);
  if (status === 429) return new StratumError("UpstreamRateLimited", message, { upstreamStatus: status, code: type });
  return new StratumError("UpstreamError", message, { upstreamStatus: status, code: type });
}

// ---------------------------------------------------------------- Anthropic -> canonical

function imageUrl(source: z.infer<typeof ImageSource>): string {
  return source.type === "base64" ? `data:${source.media_type};base64,${source.data}` : source.url;
}

function systemText(system: AnthropicRequest["system"]): string {
  if (system === undefined) return "";
  if (typeof system === "string") return system;
  return system.map((b) => b.text).join("\n");
}

export function anthropicToChatRequest(req: AnthropicRequest): ChatRequest {
  const messages: ChatMessage[] = [];
  const sys = systemText(req.system);
  if (sys) messages.push({ role: "system", content: sys });

  req.messages.forEach((m, i) => {
    if (typeof m.content === "string") {
      messages.push(m.role === "user" ? { role: "user", content: m.content } : { role: "assistant", content: m.content });
      return;
    }
    if (m.role === "assistant") {
      let text = "";
      const calls: ToolCall[] = [];
      for (const b of m.content) {
        if (b.type === "text") text += b.text;
        else if (b.type === "tool_use") {
          calls.push({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input) } });
        } else if (b.type !== "thinking" && b.type !== "redacted_thinking") {
          throw new StratumError("InvalidRequest", `${b.type} blocks are not allowed in assistant messages`, { param: `messages.${i}.content` });
        }
      }
      messages.push(calls.length > 0 ? { role: "assistant", content: text || null, tool_calls: calls } : { role: "assistant", content: text });
      return;
    }
    // User turn: tool results become tool messages, which OpenAI requires to
    // directly follow the assistant's tool calls; other content follows them.
    const parts: ContentPart[] = [];
    for (const b of m.content) {
      if (b.type === "text") parts.push({ type: "text", text: b.text });
      else if (b.type === "image") parts.push({ type: "image_url", image_url: { url: imageUrl(b.source) } });
      else if (b.type === "tool_result") {
        let text = "";
        if (typeof b.content === "string") text = b.content;
        else {
          for (const c of b.content ?? []) {
            if (c.type === "text") text += (text ? "\n" : "") + c.text;
            else parts.push({ type: "image_url", image_url: { url: imageUrl(c.source) } }); // tool messages are text-only
          }
        }
        messages.push({ role: "tool", tool_call_id: b.tool_use_id, content: b.is_error ? `Error: ${text}` : text });
      } else {
        throw new StratumError("InvalidRequest", `${b.type} blocks are not allowed in user messages`, { param: `messages.${i}.content` });
      }
    }
    if (parts.length === 1 && parts[0]!.type === "text") messages.push({ role: "user", content: (parts[0] as { text: string }).text });
    else if (parts.length > 0) messages.push({ role: "user", content: parts });
  });

  const out: ChatRequest = { model: req.model, messages, max_tokens: req.max_tokens };
  if (req.stop_sequences?.length) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  // top_k has no OpenAI equivalent and strict upstreams reject unknown fields: dropped.
  if (req.stream) out.stream = true;
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => ({
      type: "function" as const,
      function: t.description === undefined ? { name: t.name, parameters: t.input_schema } : { name: t.name, description: t.description, parameters: t.input_schema },
    }));
  }
  const tc = req.tool_choice;
  if (tc) {
    if (tc.type === "auto") out.tool_choice = "auto";
    else if (tc.type === "any") out.tool_choice = "required";
    else if (tc.type === "none") out.tool_choice = "none";
    else out.tool_choice = { type: "function", function: { name: tc.name! } };
    if (tc.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
  if (req.metadata?.user_id) out.user = req.metadata.user_id;
  return out;
}

// ---------------------------------------------------------------- canonical -> Anthropic

type Block = AnthropicContentBlock;

function userBlocks(content: ChatMessage["content"], i: number): Block[] {
  if (content == null) return [];
  if (typeof content === "string") return content ? [{ type: "text", text: content }] : [];
  const blocks: Block[] = [];
  for (const p of content) {
    if (p.type === "text") {
      const text = (p as { text: string }).text;
      if (text) blocks.push({ type: "text", text });
    } else if (p.type === "image_url") {
      const url = (p as { image_url: { url: string } }).image_url.url;
      const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
      blocks.push(m ? { type: "image", source: { type: "base64", media_type: m[1]!, data: m[2]! } } : { type: "image", source: { type: "url", url } });
    } else {
      throw new StratumError("InvalidRequest", `content part type "${p.type}" is not supported by Anthropic models`, { param: `messages[${i}].content` });
    }
  }
  return blocks;
}

function parseArguments(args: string, param: string): Record<string, unknown> {
  if (args.trim() === "") return {};
  let v: unknown;
  try {
    v = JSON.parse(args);
  } catch {
    throw new StratumError("InvalidRequest", "tool call arguments must be valid JSON", { param });
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) {
    throw new StratumError("InvalidRequest", "tool call arguments must be a JSON object", { param });
  }
  return v as Record<string, unknown>;
}

function jsonInstruction(rf: ChatRequest["response_format"]): string | undefined {
  if (!rf || rf.type === "text") return undefined;
  if (rf.type === "json_schema") {
    const js = (rf as { json_schema: { name: string; schema?: unknown } }).json_schema;
    return `Respond only with a JSON value that conforms to the JSON schema "${js.name}" below, with no other text.\n${JSON.stringify(js.schema ?? {})}`;
  }
  return "Respond only with a single valid JSON object, with no other text.";
}

export function chatRequestToAnthropic(req: ChatRequest, defaultMaxTokens: number): AnthropicRequest {
  const system: string[] = [];
  const messages: Array<{ role: "user" | "assistant"; content: Block[] }> = [];
  // Anthropic requires alternating roles: consecutive same-role turns merge.
  const push = (role: "user" | "assistant", blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };

  req.messages.forEach((m, i) => {
    switch (m.role) {
      case "system":
      case "developer": {
        const t = contentText(m.content);
        if (t) system.push(t);
        break;
      }
      case "user":
        push("user", userBlocks(m.content, i));
        break;
      case "assistant": {
        const blocks: Block[] = [];
        const text = contentText(m.content);
        if (text) blocks.push({ type: "text", text });
        m.tool_calls?.forEach((c, j) => {
          const input = parseArguments(c.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`);
          blocks.push({ type: "tool_use", id: c.id, name: c.function.name, input });
        });
        push("assistant", blocks);
        break;
      }
      case "tool":
        push("user", [{ type: "tool_result", tool_use_id: m.tool_call_id, content: contentText(m.content) }]);
        break;
    }
  });
  // tool_result blocks must come first in their user turn.
  for (const m of messages) {
    if (m.role === "user" && m.content.length > 1) {
      m.content = [...m.content.filter((b) => b.type === "tool_result"), ...m.content.filter((b) => b.type !== "tool_result")];
    }
  }
  if (messages.length === 0) {
    throw new StratumError("InvalidRequest", "at least one non-system message with content is required", { param: "messages" });
  }

  const instruction = jsonInstruction(req.response_format);
  if (instruction) system.push(instruction);

  const out: AnthropicRequest = { model: req.model, max_tokens: maxOutputTokens(req) ?? defaultMaxTokens, messages };
  if (system.length > 0) out.system = system.join("\n\n");
  if (req.stop != null) out.stop_sequences = typeof req.stop === "string" ? [req.stop] : req.stop;
  // OpenAI's temperature range is 0-2, Anthropic's 0-1: clamp.
  if (req.temperature != null) out.temperature = Math.min(req.temperature, 1);
  if (req.top_p != null) out.top_p = req.top_p;
  const topK = (req as { top_k?: unknown }).top_k;
  if (typeof topK === "number") out.top_k = topK;
  if (req.stream) out.stream = true;
  if (req.tools?.length) {
    out.tools = req.tools.map((t) => {
      const tool: z.infer<typeof AnthropicToolSchema> = {
        name: t.function.name,
        input_schema: t.function.parameters ?? { type: "object", properties: {} },
      };
      if (t.function.description !== undefined) tool.description = t.function.description;
      return tool;
    });
  }
  const tc = req.tool_choice;
  let choice: z.infer<typeof AnthropicToolChoiceSchema> | undefined;
  if (tc === "auto") choice = { type: "auto" };
  else if (tc === "required") choice = { type: "any" };
  else if (tc === "none") choice = { type: "none" };
  else if (tc) choice = { type: "tool", name: tc.function.name };
  if (req.parallel_tool_calls === false && tc !== "none") choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
  if (choice) out.tool_choice = choice;
  if (req.user) out.metadata = { user_id: req.user };
  return out;
}

// ---------------------------------------------------------------- responses

export function anthropicMessageToChatCompletion(msg: AnthropicMessage, modelAlias?: string): ChatCompletion {
  let text = "";
  const calls: ToolCall[] = [];
  for (const b of msg.content) {
    if (b.type === "text") text += b.text;
    else if (b.type === "tool_use") calls.push({ id: b.id, type: "function", function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) } });
  }
  const message: ChatCompletion["choices"][number]["message"] =
    calls.length > 0 ? { role: "assistant", content: text || null, tool_calls: calls } : { role: "assistant", content: text };
  return {
    id: msg.id,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: modelAlias ?? msg.model,
    choices: [{ index: 0, message, finish_reason: finishReasonFromAnthropic(msg.stop_reason), logprobs: null }],
    usage: usageFrom(promptTokensOf(msg.usage), msg.usage?.output_tokens ?? 0),
  };
}

function anthropicId(id: string): string {
  return id.startsWith("msg_") ? id : `msg_${id.replace(/^chatcmpl-/, "")}`;
}

function toolInput(args: string): Record<string, unknown> {
  try {
    const v = JSON.parse(args || "{}");
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // A model emitted invalid JSON; Anthropic's shape needs an object.
  }
  return {};
}

export function chatCompletionToAnthropic(c: ChatCompletion, model: string): AnthropicMessage {
  const choice = c.choices[0];
  const content: AnthropicResponseBlock[] = [];
  const text = choice?.message.content;
  if (text) content.push({ type: "text", text });
  for (const t of choice?.message.tool_calls ?? []) {
    content.push({ type: "tool_use", id: t.id, name: t.function.name, input: toolInput(t.function.arguments) });
  }
  return {
    id: anthropicId(c.id),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReasonFromFinish(choice?.finish_reason),
    stop_sequence: null,
    usage: { input_tokens: c.usage?.prompt_tokens ?? 0, output_tokens: c.usage?.completion_tokens ?? 0 },
  };
}

// ---------------------------------------------------------------- streaming: canonical -> Anthropic SSE

/**
 * Encodes OpenAI-shaped chunks as the Anthropic event sequence:
 * message_start, (content_block_start, content_block_delta*, content_block_stop)*,
 * message_delta, message_stop. Only choice 0 is encoded (n > 1 is refused upstream).
 */
export class AnthropicStreamEncoder {
  private started = false;
  private ended = false;
  private blockCount = 0;
  private openBlock = -1; // Anthropic index of the open block, -1 when none
  private openIsText = false;
  private readonly toolBlocks = new Map<number, number>(); // OpenAI tool index -> block index
  private stopReason: AnthropicStopReason | null = null;
  private usage: Usage | undefined;

  constructor(
    private readonly model: string,
    private readonly inputTokens: number,
  ) {}

  private start(id?: string): string {
    if (this.started) return "";
    this.started = true;
    return sseEvent("message_start", {
      type: "message_start",
      message: {
        id: anthropicId(id ?? `msg_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`),
        type: "message",
        role: "assistant",
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.inputTokens, output_tokens: 0 },
      },
    });
  }

  private close(): string {
    if (this.openBlock < 0) return "";
    const index = this.openBlock;
    this.openBlock = -1;
    return sseEvent("content_block_stop", { type: "content_block_stop", index });
  }

  private open(block: Record<string, unknown>, isText: boolean): string {
    const out = this.close();
    this.openBlock = this.blockCount++;
    this.openIsText = isText;
    return out + sseEvent("content_block_start", { type: "content_block_start", index: this.openBlock, content_block: block });
  }

  push(chunk: ChatCompletionChunk): string {
    if (this.ended) return "";
    let out = this.start(chunk.id);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) return out;
    const d: ChunkDelta = choice.delta;
    if (d.content) {
      if (this.openBlock < 0 || !this.openIsText) out += this.open({ type: "text", text: "" }, true);
      out += sseEvent("content_block_delta", { type: "content_block_delta", index: this.openBlock, delta: { type: "text_delta", text: d.content } });
    }
    for (const tc of d.tool_calls ?? []) {
      let index = this.toolBlocks.get(tc.index);
      if (index === undefined) {
        const id = tc.id ?? `toolu_${this.blockCount}_${Date.now().toString(36)}`;
        out += this.open({ type: "tool_use", id, name: tc.function?.name ?? "", input: {} }, false);
        index = this.openBlock;
        this.toolBlocks.set(tc.index, index);
      }
      const partial = tc.function?.arguments;
      if (partial) {
        out += sseEvent("content_block_delta", { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: partial } });
      }
    }
    if (choice.finish_reason) this.stopReason = stopReasonFromFinish(choice.finish_reason);
    return out;
  }

  /** Close the message; `usage` (e.g. counted by the gateway) overrides any seen in chunks. */
  end(usage?: Usage): string {
    if (this.ended) return "";
    this.ended = true;
    const u = usage ?? this.usage;
    const outUsage: Record<string, number> = { output_tokens: u?.completion_tokens ?? 0 };
    if (u) outUsage.input_tokens = u.prompt_tokens; // cumulative; SDKs overwrite the estimate sent at start
    return (
      this.start() +
      this.close() +
      sseEvent("message_delta", {
        type: "message_delta",
        delta: { stop_reason: this.stopReason ?? "end_turn", stop_sequence: null },
        usage: outUsage,
      }) +
      sseEvent("message_stop", { type: "message_stop" })
    );
  }

  /** A mid-stream failure: Anthropic's `event: error`. Ends the encoder. */
  error(type: string, message: string): string {
    this.ended = true;
    return sseEvent("error", anthropicErrorBody(type, message));
  }
}

// ---------------------------------------------------------------- streaming: Anthropic SSE -> canonical

interface StreamEvent {
  type?: string;
  index?: number;
  message?: { usage?: Partial<AnthropicUsage> };
  content_block?: { type?: string; id?: string; name?: string; text?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: Partial<AnthropicUsage>;
  error?: unknown;
}

/**
 * Anthropic SSE events -> OpenAI chunks, one event at a time (synchronous, so
 * a provider can translate the events a body read carries without an async
 * step each): a role chunk, content and tool-call deltas, a finish chunk, then
 * a usage chunk with `choices: []`. message_stop ends it; an `error` event
 * throws; a stream ending early is UpstreamProtocol.
 */
export class AnthropicStreamTranslator {
  private readonly make: ChunkMaker;
  private prompt = 0;
  private completion = 0;
  private stop: string | null = null;
  private readonly toolIndex = new Map<number, number>();
  /** message_stop came. */
  ended = false;

  constructor(id: string, model: string) {
    this.make = new ChunkMaker(id, model);
  }

  /** The chunks `ev` gives: none, one, or (at message_stop) the finish and usage chunks. */
  event(ev: SSEEvent): ChatCompletionChunk | ChatCompletionChunk[] | undefined {
    let d: StreamEvent;
    try {
      d = JSON.parse(ev.data) as StreamEvent;
    } catch {
      throw new StratumError("UpstreamProtocol", `malformed JSON in upstream stream event: ${ev.data.slice(0, 100)}`);
    }
    if (!d || typeof d !== "object") throw new StratumError("UpstreamProtocol", "upstream stream event is not an object");
    switch (d.type ?? ev.event) {
      case "message_start": {
        const u = d.message?.usage;
        this.prompt = promptTokensOf(u);
        this.completion = u?.output_tokens ?? 0;
        return this.make.delta({ role: "assistant", content: "" });
      }
      case "content_block_start": {
        const b = d.content_block;
        if (b?.type === "tool_use" && typeof d.index === "number") {
          const ti = this.toolIndex.size;
          this.toolIndex.set(d.index, ti);
          return this.make.delta({ tool_calls: [{ index: ti, id: b.id ?? "", type: "function", function: { name: b.name ?? "", arguments: "" } }] });
        }
        if (b?.type === "text" && b.text) return this.make.delta({ content: b.text });
        return undefined;
      }
      case "content_block_delta": {
        const dl = d.delta;
        if (dl?.type === "text_delta" && dl.text) return this.make.delta({ content: dl.text });
        if (dl?.type === "input_json_delta" && dl.partial_json) {
          const ti = this.toolIndex.get(d.index ?? -1);
          if (ti !== undefined) return this.make.delta({ tool_calls: [{ index: ti, function: { arguments: dl.partial_json } }] });
        }
        return undefined;
      }
      case "message_delta": {
        if (d.delta?.stop_reason) this.stop = d.delta.stop_reason;
        const u = d.usage;
        if (typeof u?.output_tokens === "number") this.completion = u.output_tokens;
        if (typeof u?.input_tokens === "number") this.prompt = promptTokensOf(u);
        return undefined;
      }
      case "message_stop":
        this.ended = true;
        return [
          this.make.delta({}, finishReasonFromAnthropic(this.stop)),
          this.make.usage(usageFrom(this.prompt, this.completion)),
        ];
      case "error":
        throw anthropicUpstreamError(d.error);
      default: // ping, content_block_stop, thinking deltas
        return undefined;
    }
  }

  /** The body ended: without message_stop, the answer is cut off. */
  bodyEnded(): void {
    if (!this.ended) throw new StratumError("UpstreamProtocol", "upstream stream ended before message_stop");
  }
}
