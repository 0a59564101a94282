// ToolRegistry: tools by name, their arguments validated against each tool's
// JSON schema (ajv) before anything runs, each run bounded by a timeout.
import { Ajv, type ValidateFunction, type ErrorObject } from "ajv";
import { StratumError } from "../core/errors.js";
import type { Tool as OpenAITool } from "../protocol/openai.js";
import type { Tool, ToolCall, ToolContext, ToolDefinition, ToolErrorCode, ToolResult } from "./types.js";

export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
const NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool-level failure; `code` says which (unknown tool, invalid arguments, ...). */
export class ToolError extends StratumError {
  constructor(
    readonly toolCode: ToolErrorCode,
    message: string,
    opts: { cause?: unknown } = {},
  ) {
    super(toolCode === "tool_failed" || toolCode === "tool_timeout" ? "Internal" : "InvalidRequest", message, {
      code: toolCode,
      cause: opts.cause,
    });
  }
}

export function isToolError(e: unknown): e is ToolError {
  return e instanceof ToolError;
}

function formatAjvErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors?.length) return "invalid";
  return errors
    .slice(0, 5)
    .map((e) => {
      const at = e.instancePath || "(root)";
      if (e.keyword === "additionalProperties") return `${at}: unexpected property "${String((e.params as { additionalProperty?: string }).additionalProperty)}"`;
      return `${at}: ${e.message ?? e.keyword}`;
    })
    .join("; ");
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The text a tool's value is given to the model as. */
export function toolContent(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "null";
  return JSON.stringify(value);
}

export interface ToolRegistryOptions {
  defaultTimeoutMs?: number;
}

export class ToolRegistry {
  private readonly ajv = new Ajv({ strict: false, allErrors: true });
  private readonly tools = new Map<string, { tool: Tool; validate: ValidateFunction }>();
  private readonly defaultTimeoutMs: number;

  constructor(tools: Iterable<Tool> = [], opts: ToolRegistryOptions = {}) {
    this.defaultTimeoutMs = opts.defaultTimeoutMs ?? DEFAULT_TOOL_TIMEOUT_MS;
    for (const t of tools) this.register(t);
  }

  register(tool: Tool): this {
    const d = tool.definition;
    if (!NAME_RE.test(d.name)) throw new ToolError("invalid_arguments", `invalid tool name "${d.name}" (letters, digits, _ and -, at most 64)`);
    if (this.tools.has(d.name)) throw new ToolError("invalid_arguments", `tool "${d.name}" is already registered`);
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(d.parameters);
    } catch (e) {
      throw new ToolError("invalid_arguments", `tool "${d.name}": invalid parameters schema (${errorText(e)})`, { cause: e });
    }
    this.tools.set(d.name, { tool, validate });
    return this;
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name)?.tool;
  }

  definitions(): ToolDefinition[] {
    return [...this.tools.values()].map((t) => t.tool.definition);
  }

  /** The tools in the OpenAI `tools` request shape. */
  openAITools(): OpenAITool[] {
    return this.definitions().map((d) => ({
      type: "function" as const,
      function: { name: d.name, description: d.description, parameters: d.parameters },
    }));
  }

  /** Returns the tool for valid arguments; throws ToolError (unknown_tool / invalid_arguments) otherwise. */
  validate(name: string, args: unknown): Tool {
    const entry = this.tools.get(name);
    if (!entry) {
      const known = [...this.tools.keys()].join(", ") || "none";
      throw new ToolError("unknown_tool", `unknown tool "${name}" (available: ${known})`);
    }
    if (!entry.validate(args)) {
      throw new ToolError("invalid_arguments", `invalid arguments for tool "${name}": ${formatAjvErrors(entry.validate.errors)}`);
    }
    return entry.tool;
  }

  /** Decodes a model's JSON argument string; throws ToolError(invalid_arguments) if it is not JSON. */
  static parseArguments(name: string, raw: string): unknown {
    if (raw.trim() === "") return {};
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      throw new ToolError("invalid_arguments", `arguments for tool "${name}" are not valid JSON`);
    }
  }

  /**
   * Validates and runs a call. Never throws: failures come back as a result
   * with ok=false and an error the model can read.
   */
  async execute(call: ToolCall, ctx: ToolContext): Promise<ToolResult> {
    const started = Date.now();
    const fail = (code: ToolErrorCode, message: string): ToolResult => ({
      callId: call.id,
      name: call.name,
      ok: false,
      error: { code, message },
      content: JSON.stringify({ error: { code, message } }),
      durationMs: Date.now() - started,
    });
    let tool: Tool;
    try {
      tool = this.validate(call.name, call.arguments);
    } catch (e) {
      return isToolError(e) ? fail(e.toolCode, e.message) : fail("tool_failed", errorText(e));
    }
    const timeoutMs = tool.definition.timeoutMs ?? this.defaultTimeoutMs;
    // A ref'd timer (AbortSignal.timeout is unref'd and would let a hung tool end the process).
    const timeoutCtl = new AbortController();
    const timer = setTimeout(() => timeoutCtl.abort(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    const timeout = timeoutCtl.signal;
    const signal = AbortSignal.any([ctx.signal, timeout]);
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      const value = await Promise.race([tool.run(call.arguments, { signal, tenant: ctx.tenant }), aborted]);
      return { callId: call.id, name: call.name, ok: true, value, content: toolContent(value), durationMs: Date.now() - started };
    } catch (e) {
      if (timeout.aborted) return fail("tool_timeout", `tool "${call.name}" timed out after ${timeoutMs} ms`);
      if (ctx.signal.aborted) return fail("tool_timeout", `tool "${call.name}" was aborted (${errorText(ctx.signal.reason)})`);
      return fail("tool_failed", `tool "${call.name}" failed: ${errorText(e)}`);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }
}
