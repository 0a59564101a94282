// OpenAI's Responses API (POST /v1/responses) as a wire format over the
// canonical chat request: the request's input items become chat messages, a
// chat completion becomes a `response` object with output items, and a chunk
// stream becomes the Responses event stream (response.created, output items
// and content parts opened, text and function-call argument deltas, items
// done, response.completed with usage). Stateless: no stored responses, so
// previous_response_id, conversations and background runs are refused.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { StratumError } from "../core/errors.js";
import type { ChatCompletion, ChatCompletionChunk, ChatMessage, ChatRequest, ToolCall, Usage } from "./openai.js";
import { sseEvent } from "./sse.js";

const TextPart = z.looseObject({ type: z.enum(["input_text", "output_text", "text"]), text: z.string() });
const MessageItem = z.looseObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"]),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]),
});
const FunctionCallItem = z.looseObject({ type: z.literal("function_call"), call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() });
const FunctionOutputItem = z.looseObject({ type: z.literal("function_call_output"), call_id: z.string().min(1), output: z.union([z.string(), z.array(TextPart)]) });

export const ResponsesRequestSchema = z.looseObject({
  model: z.string().min(1, "model must be a non-empty string"),
  input: z.union([z.string(), z.array(z.looseObject({ type: z.string().optional() })).min(1, "input must contain at least one item")]),
  instructions: z.string().nullable().optional(),
  max_output_tokens: z.number().int().positive().nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  top_p: z.number().min(0).max(1).nullable().optional(),
  stream: z.boolean().nullable().optional(),
  user: z.string().max(256).optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  tools: z.array(z.looseObject({ type: z.string() })).max(128).optional(),
  tool_choice: z.union([z.enum(["none", "auto", "required"]), z.looseObject({ type: z.string(), name: z.string().optional() })]).optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  text: z
    .looseObject({
      format: z
        .union([
          z.looseObject({ type: z.literal("text") }),
          z.looseObject({ type: z.literal("json_object") }),
          z.looseObject({ type: z.literal("json_schema"), name: z.string().min(1), schema: z.record(z.string(), z.unknown()), strict: z.boolean().nullable().optional() }),
        ])
        .optional(),
    })
    .optional(),
  previous_response_id: z.string().nullable().optional(),
  conversation: z.unknown().optional(),
  background: z.boolean().nullable().optional(),
});
export type ResponsesRequest = z.infer<typeof ResponsesRequestSchema>;

const unsupported = (param: string, what: string) =>
  new StratumError("InvalidRequest", `${what} is not supported: Stratum keeps no responses, so send the whole input with each request (or use x-session-id).`, {
    param,
    code: "unsupported_parameter",
  });

/** The canonical chat request of a Responses request. Throws InvalidRequest naming the field it cannot serve. */
export function responsesToChatRequest(r: ResponsesRequest): ChatRequest {
  if (r.previous_response_id) throw unsupported("previous_response_id", "previous_response_id");
  if (r.conversation !== undefined && r.conversation !== null) throw unsupported("conversation", "conversation");
  if (r.background) throw new StratumError("InvalidRequest", "background responses are not supported.", { param: "background", code: "unsupported_parameter" });
  const messages: ChatMessage[] = r.instructions ? [{ role: "system", content: r.instructions }] : [];
  const items = typeof r.input === "string" ? [{ role: "user", content: r.input }] : r.input;
  items.forEach((raw, i) => messages.push(inputItem(raw, `input[${i}]`)));
  const req: ChatRequest = { model: r.model, messages };
  if (r.max_output_tokens != null) req.max_completion_tokens = r.max_output_tokens;
  if (r.temperature != null) req.temperature = r.temperature;
  if (r.top_p != null) req.top_p = r.top_p;
  if (r.stream) req.stream = true;
  if (r.user !== undefined) req.user = r.user;
  if (r.parallel_tool_calls != null) req.parallel_tool_calls = r.parallel_tool_calls;
  if (r.tools?.length) {
    req.tools = r.tools.map((t, i) => {
      if (t.type !== "function") throw new StratumError("InvalidRequest", `tools[${i}]: only function tools are supported (got "${t.type}").`, { param: `tools[${i}].type`, code: "unsupported_parameter" });
      const f = t as { name?: unknown; description?: unknown; parameters?: unknown; strict?: unknown };
      if (typeof f.name !== "string" || !f.name) throw new StratumError("InvalidRequest", `tools[${i}].name must be a non-empty string.`, { param: `tools[${i}].name` });
      return {
        type: "function" as const,
        function: {
          name: f.name,
          ...(typeof f.description === "string" ? { description: f.description } : {}),
          ...(f.parameters && typeof f.parameters === "object" ? { parameters: f.parameters as Record<string, unknown> } : {}),
          ...(typeof f.strict === "boolean" ? { strict: f.strict } : {}),
        },
      };
    });
  }
  if (r.tool_choice !== undefined) {
    const c = r.tool_choice;
    if (typeof c === "string") req.tool_choice = c;
    else if (c.type === "function" && c.name) req.tool_choice = { type: "function", function: { name: c.name } };
    else throw new StratumError("InvalidRequest", `tool_choice of type "${c.type}" is not supported.`, { param: "tool_choice", code: "unsupported_parameter" });
  }
  const format = r.text?.format;
  if (format?.type === "json_object") req.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    req.response_format = { type: "json_schema", json_schema: { name: format.name, schema: format.schema, ...(format.strict != null ? { strict: format.strict } : {}) } };
  }
  return req;
}

function inputItem(raw: { type?: string }, path: string): ChatMessage {
  const type = raw.type ?? "message";
  if (type === "function_call") {
    const c = parseItem(FunctionCallItem, raw, path);
    return { role: "assistant", content: null, tool_calls: [{ id: c.call_id, type: "function", function: { name: c.name, arguments: c.arguments } }] };
  }
  if (type === "function_call_output") {
    const o = parseItem(FunctionOutputItem, raw, path);
    return { role: "tool", tool_call_id: o.call_id, content: typeof o.output === "string" ? o.output : o.output.map((p) => p.text).join("") };
  }
  if (type !== "message") throw new StratumError("InvalidRequest", `${path}: input items of type "${type}" are not supported.`, { param: `${path}.type`, code: "unsupported_parameter" });
  const m = parseItem(MessageItem, raw, path);
  const text =
    typeof m.content === "string"
      ? m.content
      : m.content
          .map((p, j) => {
            const part = TextPart.safeParse(p);
            if (!part.success) throw new StratumError("InvalidRequest", `${path}.content[${j}]: only text parts are supported (got "${p.type}").`, { param: `${path}.content[${j}].type`, code: "unsupported_parameter" });
            return part.data.text;
          })
          .join("\n");
  return m.role === "assistant" ? { role: "assistant", content: text } : { role: m.role, content: text };
}

function parseItem<S extends z.ZodType>(schema: S, raw: unknown, path: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const at = [path, ...issue.path.map(String)].join(".");
  throw new StratumError("InvalidRequest", `Invalid value for '${at}': ${issue.message}`, { param: at, code: "invalid_value" });
}

// ------------------------------------------------------------------ output ---

interface MessageOutput {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: Array<{ type: "output_text"; text: string; annotations: never[] }>;
}
interface FunctionCallOutput {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed";
}
type OutputItem = MessageOutput | FunctionCallOutput;

const newId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, "")}`;

export function responsesUsage(u: Usage) {
  return {
    input_tokens: u.prompt_tokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: u.completion_tokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.total_tokens,
  };
}

/** The `response` object; `status` completed, or incomplete when the answer hit max_output_tokens. */
function responseObject(id: string, createdAt: number, req: ResponsesRequest, output: OutputItem[], state: { status: string; truncated?: boolean; usage?: Usage }) {
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: state.status,
    error: null,
    incomplete_details: state.truncated ? { reason: "max_output_tokens" } : null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    model: req.model,
    output,
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    temperature: req.temperature ?? null,
    text: { format: req.text?.format ?? { type: "text" } },
    tool_choice: req.tool_choice ?? "auto",
    tools: req.tools ?? [],
    top_p: req.top_p ?? null,
    usage: state.usage ? responsesUsage(state.usage) : null,
    metadata: req.metadata ?? {},
    store: false,
  };
}

/** A whole chat completion as a `response` object. */
export function chatCompletionToResponse(c: ChatCompletion, req: ResponsesRequest) {
  const choice = c.choices[0];
  const output: OutputItem[] = [];
  const truncated = choice?.finish_reason === "length";
  const text = choice?.message.content;
  if (text || !choice?.message.tool_calls?.length) {
    output.push(messageItem(text ?? "", truncated ? "incomplete" : "completed"));
  }
  for (const call of choice?.message.tool_calls ?? []) output.push(functionCall(call, "completed"));
  return responseObject(newId("resp"), c.created, req, output, { status: truncated ? "incomplete" : "completed", truncated, usage: c.usage });
}

function messageItem(text: string, status: MessageOutput["status"]): MessageOutput {
  return { type: "message", id: newId("msg"), status, role: "assistant", content: [{ type: "output_text", text, annotations: [] }] };
}

function functionCall(call: Pick<ToolCall, "id"> & { function: { name: string; arguments: string } }, status: FunctionCallOutput["status"]): FunctionCallOutput {
  return { type: "function_call", id: newId("fc"), call_id: call.id, name: call.function.name, arguments: call.function.arguments, status };
}

/**
 * Chat chunks → Responses events. Output items open as their first delta arrives and close when
 * the next one opens (chat streams send one tool call's fragments before the next) or at the end.
 */
export class ResponsesStreamEncoder {
  private readonly id = newId("resp");
  private readonly createdAt = Math.floor(Date.now() / 1000);
  private seq = 0;
  private readonly output: OutputItem[] = [];
  private open: { item: OutputItem; index: number; toolIndex?: number } | undefined;
  private truncated = false;

  constructor(private readonly req: ResponsesRequest) {}

  private event(type: string, body: Record<string, unknown>): string {
    return sseEvent(type, { type, sequence_number: this.seq++, ...body });
  }

  private startIfNeeded(): string {
    if (this.seq > 0) return "";
    const response = responseObject(this.id, this.createdAt, this.req, [], { status: "in_progress" });
    return this.event("response.created", { response }) + this.event("response.in_progress", { response });
  }

  private openItem(item: OutputItem, toolIndex?: number): string {
    let out = this.closeOpen();
    const index = this.output.length;
    this.output.push(item);
    this.open = { item, index, ...(toolIndex !== undefined ? { toolIndex } : {}) };
    out += this.event("response.output_item.added", { output_index: index, item: { ...item, ...(item.type === "message" ? { content: [] } : {}) } });
    if (item.type === "message") out += this.event("response.content_part.added", { item_id: item.id, output_index: index, content_index: 0, part: { type: "output_text", text: "", annotations: [] } });
    return out;
  }

  private closeOpen(): string {
    const o = this.open;
    if (!o) return "";
    this.open = undefined;
    const item = o.item;
    let out = "";
    if (item.type === "message") {
      item.status = this.truncated ? "incomplete" : "completed";
      const part = item.content[0]!;
      out += this.event("response.output_text.done", { item_id: item.id, output_index: o.index, content_index: 0, text: part.text });
      out += this.event("response.content_part.done", { item_id: item.id, output_index: o.index, content_index: 0, part });
    } else {
      item.status = "completed";
      out += this.event("response.function_call_arguments.done", { item_id: item.id, output_index: o.index, arguments: item.arguments });
    }
    return out + this.event("response.output_item.done", { output_index: o.index, item });
  }

  push(chunk: ChatCompletionChunk): string {
    let out = this.startIfNeeded();
    const choice = chunk.choices[0];
    if (!choice) return out;
    if (choice.finish_reason === "length") this.truncated = true;
    const text = choice.delta.content;
    if (text) {
      if (this.open?.item.type !== "message") out += this.openItem(messageItem("", "in_progress"));
      const item = this.open!.item as MessageOutput;
      item.content[0]!.text += text;
      out += this.event("response.output_text.delta", { item_id: item.id, output_index: this.open!.index, content_index: 0, delta: text });
    }
    for (const d of choice.delta.tool_calls ?? []) {
      if (this.open?.toolIndex !== d.index) {
        out += this.openItem(functionCall({ id: d.id ?? newId("call"), function: { name: d.function?.name ?? "", arguments: "" } }, "in_progress"), d.index);
      }
      const item = this.open!.item as FunctionCallOutput;
      const args = d.function?.arguments;
      if (args) {
        item.arguments += args;
        out += this.event("response.function_call_arguments.delta", { item_id: item.id, output_index: this.open!.index, delta: args });
      }
    }
    return out;
  }

  /** Closes what is open and completes the response with its usage. */
  end(usage: Usage): string {
    let out = this.startIfNeeded();
    if (!this.output.length) out += this.openItem(messageItem("", "in_progress"));
    out += this.closeOpen();
    const status = this.truncated ? "incomplete" : "completed";
    const response = responseObject(this.id, this.createdAt, this.req, this.output, { status, truncated: this.truncated, usage });
    return out + this.event(this.truncated ? "response.incomplete" : "response.completed", { response });
  }

  /** A failure after the first event: an `error` event, then response.failed. */
  error(code: string, message: string): string {
    const response = { ...responseObject(this.id, this.createdAt, this.req, this.output, { status: "failed" }), error: { code, message } };
    return this.startIfNeeded() + this.event("error", { code, message, param: null }) + this.event("response.failed", { response });
  }
}
