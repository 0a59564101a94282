// ToolLoop: model → tool calls → tool results → model, until a final answer,
// within budgets (steps, wall time, cost). A call whose tool risk is above the
// approval threshold suspends the run: an ApprovalRequest carrying the whole
// resumable state (messages so far + the pending call + the rest of that turn)
// is persisted BEFORE the caller hears "pending", so any process can resume it
// later with resume(approvalId) — the tool runs if approved; otherwise the
// model is told it was denied (or expired) and why.
import { SpanStatusCode, trace, type Context } from "@opentelemetry/api";
import { recordedSpan } from "../core/trace-context.js";
import { randomUUID } from "node:crypto";
import { StratumError } from "../core/errors.js";
import type { AssistantMessage, ChatMessage, Tool as OpenAITool, ToolCall as OpenAIToolCall } from "../protocol/openai.js";
import { ToolRegistry, isToolError } from "./registry.js";
import { riskAbove, type ApprovalRequest, type ApprovalStore, type LoopState, type RiskLevel, type ToolResult } from "./types.js";

const tracer = trace.getTracer("stratum");

export interface CompleteResult {
  message: AssistantMessage;
  /** What this model call cost, counted against maxCostUsd. */
  costUsd?: number;
}

export type CompleteFn = (messages: ChatMessage[], tools: OpenAITool[], opts: { signal: AbortSignal }) => Promise<CompleteResult>;

export interface ToolLoopBudgets {
  /** Maximum model calls in the run (across resumes). */
  maxSteps: number;
  /** Maximum active wall time in ms (time spent waiting for an approval is not counted). */
  maxMs: number;
  maxCostUsd?: number;
}

export interface ToolLoopOptions {
  complete: CompleteFn;
  registry: ToolRegistry;
  store: ApprovalStore;
  budgets: ToolLoopBudgets;
  /** Calls to tools whose risk is strictly above this need a human approval. Default "medium" (only "high" waits). */
  approvalThreshold?: RiskLevel;
  /** How long an approval stays open before it expires. Default 15 minutes. */
  approvalTtlMs?: number;
  clock?: () => number;
  newId?: () => string;
}

export interface LoopUsage {
  steps: number;
  costUsd: number;
  elapsedMs: number;
}

export type LoopErrorCode = "max_steps" | "max_time" | "max_cost";

export type ToolLoopResult =
  | { status: "completed"; runId: string; message: AssistantMessage; messages: ChatMessage[]; usage: LoopUsage; toolResults: ToolResult[] }
  | { status: "pending"; runId: string; approvalId: string; tool: string; expiresAt: number; state: LoopState }
  | { status: "failed"; runId: string; error: { code: LoopErrorCode; message: string }; messages: ChatMessage[]; usage: LoopUsage; toolResults: ToolResult[] };

export interface RunInput {
  tenant: string;
  messages: ChatMessage[];
  runId?: string;
  signal?: AbortSignal;
  /** Trace context for `tool.call` spans and approval events (passed explicitly). */
  trace?: Context;
}

interface Run {
  runId: string;
  tenant: string;
  messages: ChatMessage[];
  usage: LoopUsage;
  /** clock() when this process started working on the run (elapsedMs covers earlier stints). */
  activeSince: number;
  signal: AbortSignal;
  budgetSignal: AbortSignal;
  toolResults: ToolResult[];
  trace: Context | undefined;
}

export const DEFAULT_APPROVAL_TTL_MS = 15 * 60_000;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class ToolLoop {
  private readonly clock: () => number;
  private readonly newId: () => string;
  private readonly threshold: RiskLevel;
  private readonly ttlMs: number;

  constructor(private readonly opts: ToolLoopOptions) {
    if (!(opts.budgets.maxSteps >= 1)) throw new StratumError("InvalidRequest", "budgets.maxSteps must be at least 1");
    if (!(opts.budgets.maxMs > 0)) throw new StratumError("InvalidRequest", "budgets.maxMs must be positive");
    this.clock = opts.clock ?? Date.now;
    this.newId = opts.newId ?? randomUUID;
    this.threshold = opts.approvalThreshold ?? "medium";
    this.ttlMs = opts.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS;
  }

  /** Starts a run. */
  async run(input: RunInput): Promise<ToolLoopResult> {
    const runId = input.runId ?? this.newId();
    return this.withBudget({ steps: 0, costUsd: 0, elapsedMs: 0 }, input.signal, (signal, budgetSignal) =>
      this.drive({
        runId,
        tenant: input.tenant,
        messages: [...input.messages],
        usage: { steps: 0, costUsd: 0, elapsedMs: 0 },
        activeSince: this.clock(),
        signal,
        budgetSignal,
        toolResults: [],
        trace: input.trace,
      }),
    );
  }

  /**
   * Continues a suspended run once its approval is decided (or overdue).
   * Still undecided → the same pending result again. A run resumes at most once
   * per approval (a second resume throws InvalidRequest "already_resumed").
   */
  async resume(approvalId: string, opts: { tenant?: string; signal?: AbortSignal; trace?: Context } = {}): Promise<ToolLoopResult> {
    const { store } = this.opts;
    let req = await store.get(approvalId, opts.tenant);
    if (!req) throw new StratumError("NotFound", `approval "${approvalId}" not found`, { code: "approval_not_found" });
    const state = req.state as LoopState | undefined;
    if (!state || state.version !== 1 || !state.pending) {
      throw new StratumError("InvalidRequest", `approval "${approvalId}" carries no resumable run state`, { code: "not_resumable" });
    }
    if (req.status === "pending") {
      const now = this.clock();
      if (req.expiresAt > now) return this.pendingResult(req, state);
      await store.expireDue(now);
      req = (await store.get(approvalId))!;
      if (req.status === "pending") return this.pendingResult(req, state);
    }
    if (!(await store.markResumed(approvalId, this.clock()))) {
      throw new StratumError("InvalidRequest", `approval "${approvalId}" was already resumed`, { code: "already_resumed" });
    }
    const decided = req;
    return this.withBudget(state.usage, opts.signal, async (signal, budgetSignal) => {
      const run: Run = {
        runId: state.runId,
        tenant: state.tenant,
        messages: [...state.messages],
        usage: { ...state.usage },
        activeSince: this.clock(),
        signal,
        budgetSignal,
        toolResults: [],
        trace: opts.trace,
      };
      const call = state.pending;
      recordedSpan(run.trace)?.addEvent("tool.approval_decided", { "stratum.tool.name": call.function.name, "stratum.approval.id": approvalId, "stratum.approval.status": decided.status });
      if (decided.status === "approved") {
        await this.runCall(run, call);
      } else {
        const why =
          decided.status === "expired"
            ? `No one approved this call in time (the approval expired${decided.reason ? `: ${decided.reason}` : ""}). Do not retry it without asking the user.`
            : `The user denied this call${decided.decidedBy ? ` (${decided.decidedBy})` : ""}${decided.reason ? `: ${decided.reason}` : ""}.`;
        this.addResult(run, {
          callId: call.id,
          name: call.function.name,
          ok: false,
          error: { code: "denied", message: why },
          content: JSON.stringify({ error: { code: "denied", status: decided.status, message: why } }),
          durationMs: 0,
        });
      }
      const suspended = await this.runCalls(run, state.remaining);
      if (suspended) return suspended;
      return this.drive(run);
    });
  }

  private pendingResult(req: ApprovalRequest, state: LoopState): ToolLoopResult {
    return { status: "pending", runId: req.runId, approvalId: req.id, tool: req.tool, expiresAt: req.expiresAt, state };
  }

  /** Runs `fn` with a signal that aborts when the run's remaining time is used up. */
  private async withBudget(
    usage: LoopUsage,
    external: AbortSignal | undefined,
    fn: (signal: AbortSignal, budgetSignal: AbortSignal) => Promise<ToolLoopResult>,
  ): Promise<ToolLoopResult> {
    const ctl = new AbortController();
    const remaining = Math.max(0, this.opts.budgets.maxMs - usage.elapsedMs);
    const timer = setTimeout(() => ctl.abort(new StratumError("BudgetExceeded", "tool loop time budget exhausted")), Math.min(remaining, 2 ** 31 - 1));
    timer.unref?.();
    try {
      return await fn(external ? AbortSignal.any([external, ctl.signal]) : ctl.signal, ctl.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  private elapsed(run: Run): number {
    return run.usage.elapsedMs + (this.clock() - run.activeSince);
  }

  private failed(run: Run, code: LoopErrorCode, message: string): ToolLoopResult {
    return {
      status: "failed",
      runId: run.runId,
      error: { code, message },
      messages: run.messages,
      usage: { ...run.usage, elapsedMs: this.elapsed(run) },
      toolResults: run.toolResults,
    };
  }

  private overBudget(run: Run): ToolLoopResult | undefined {
    const b = this.opts.budgets;
    if (this.elapsed(run) >= b.maxMs || run.budgetSignal.aborted) {
      return this.failed(run, "max_time", `time budget of ${b.maxMs} ms exhausted before a final answer`);
    }
    if (b.maxCostUsd !== undefined && run.usage.costUsd >= b.maxCostUsd) {
      return this.failed(run, "max_cost", `cost budget of $${b.maxCostUsd} exhausted ($${run.usage.costUsd.toFixed(6)} spent) before a final answer`);
    }
    return undefined;
  }

  private async drive(run: Run): Promise<ToolLoopResult> {
    const { budgets, registry, complete } = this.opts;
    const tools = registry.openAITools();
    for (;;) {
      const over = this.overBudget(run);
      if (over) return over;
      if (run.usage.steps >= budgets.maxSteps) {
        return this.failed(run, "max_steps", `step budget of ${budgets.maxSteps} model calls exhausted before a final answer`);
      }
      let res: CompleteResult;
      try {
        res = await complete(run.messages, tools, { signal: run.signal });
      } catch (e) {
        if (run.budgetSignal.aborted) return this.failed(run, "max_time", `time budget of ${budgets.maxMs} ms exhausted during a model call`);
        throw e;
      }
      run.usage.steps += 1;
      run.usage.costUsd += res.costUsd ?? 0;
      const msg = res.message;
      const calls = msg.tool_calls ?? [];
      run.messages.push({ role: "assistant", content: msg.content ?? null, ...(calls.length ? { tool_calls: calls } : {}) });
      if (!calls.length) {
        return {
          status: "completed",
          runId: run.runId,
          message: msg,
          messages: run.messages,
          usage: { ...run.usage, elapsedMs: this.elapsed(run) },
          toolResults: run.toolResults,
        };
      }
      const suspended = await this.runCalls(run, calls);
      if (suspended) return suspended;
    }
  }

  /** Runs one assistant turn's calls in order; returns a pending result if one needs approval. */
  private async runCalls(run: Run, calls: OpenAIToolCall[]): Promise<ToolLoopResult | undefined> {
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      if (this.needsApproval(call)) return this.suspend(run, call, calls.slice(i + 1));
      const over = this.overBudget(run);
      if (over) return over;
      await this.runCall(run, call);
    }
    return undefined;
  }

  /** True for a known tool above the threshold whose arguments are valid (invalid ones go straight back to the model). */
  private needsApproval(call: OpenAIToolCall): boolean {
    const tool = this.opts.registry.get(call.function.name);
    if (!tool || !riskAbove(tool.definition.risk, this.threshold)) return false;
    try {
      this.opts.registry.validate(call.function.name, ToolRegistry.parseArguments(call.function.name, call.function.arguments));
      return true;
    } catch {
      return false;
    }
  }

  private async suspend(run: Run, call: OpenAIToolCall, remaining: OpenAIToolCall[]): Promise<ToolLoopResult> {
    const tool = this.opts.registry.get(call.function.name)!;
    const now = this.clock();
    const state: LoopState = {
      version: 1,
      runId: run.runId,
      tenant: run.tenant,
      messages: run.messages,
      pending: call,
      remaining,
      usage: { ...run.usage, elapsedMs: this.elapsed(run) },
    };
    const req = await this.opts.store.create({
      id: this.newId(),
      tenant: run.tenant,
      runId: run.runId,
      tool: call.function.name,
      arguments: ToolRegistry.parseArguments(call.function.name, call.function.arguments),
      risk: tool.definition.risk,
      createdAt: now,
      expiresAt: now + this.ttlMs,
      state,
    });
    recordedSpan(run.trace)?.addEvent("tool.approval_requested", { "stratum.tool.name": call.function.name, "stratum.tool.risk": tool.definition.risk, "stratum.approval.id": req.id });
    return this.pendingResult(req, state);
  }

  private async runCall(run: Run, call: OpenAIToolCall): Promise<void> {
    let args: unknown;
    try {
      args = ToolRegistry.parseArguments(call.function.name, call.function.arguments);
    } catch (e) {
      const message = isToolError(e) ? e.message : errorText(e);
      this.addResult(run, {
        callId: call.id,
        name: call.function.name,
        ok: false,
        error: { code: "invalid_arguments", message },
        content: JSON.stringify({ error: { code: "invalid_arguments", message } }),
        durationMs: 0,
      });
      return;
    }
    const risk = this.opts.registry.get(call.function.name)?.definition.risk ?? "unknown";
    const span = recordedSpan(run.trace) ? tracer.startSpan("tool.call", { attributes: { "stratum.tool.name": call.function.name, "stratum.tool.risk": risk, "stratum.tool.call_id": call.id } }, run.trace) : undefined;
    let result: ToolResult;
    try {
      result = await this.opts.registry.execute({ id: call.id, name: call.function.name, arguments: args }, { signal: run.signal, tenant: run.tenant });
      span?.setAttributes({ "stratum.tool.outcome": result.ok ? "ok" : (result.error?.code ?? "error"), "stratum.tool.duration_ms": result.durationMs });
      if (!result.ok) span?.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message ?? "tool failed" });
    } finally {
      span?.end();
    }
    this.addResult(run, result);
  }

  private addResult(run: Run, result: ToolResult): void {
    run.toolResults.push(result);
    run.messages.push({ role: "tool", tool_call_id: result.callId, content: result.content });
  }
}
