// Server-side tools with human approval: the shared types. A Tool is a JSON-
// schema-described function the gateway runs itself (not the client); calls
// whose risk is above a pipeline's threshold wait for a human decision that is
// persisted in an ApprovalStore, so a run can resume in another process.
import type { ChatMessage, ToolCall as OpenAIToolCall } from "../protocol/openai.js";

export type RiskLevel = "low" | "medium" | "high";

export const RISK_RANK: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2 };

/** True when `risk` is strictly above `threshold` (and so needs a human approval). */
export function riskAbove(risk: RiskLevel, threshold: RiskLevel): boolean {
  return RISK_RANK[risk] > RISK_RANK[threshold];
}

export interface ToolDefinition {
  name: string;
  description: string;
  /** JSON schema of the arguments object. */
  parameters: Record<string, unknown>;
  risk: RiskLevel;
  /** Per-call timeout; the registry's default applies when absent. */
  timeoutMs?: number;
}

export interface ToolCall {
  id: string;
  name: string;
  /** Parsed arguments (the model's JSON string already decoded). */
  arguments: unknown;
}

export type ToolErrorCode = "unknown_tool" | "invalid_arguments" | "tool_failed" | "tool_timeout" | "denied";

export interface ToolResult {
  callId: string;
  name: string;
  ok: boolean;
  /** The tool's return value when ok. */
  value?: unknown;
  /** When not ok: why (sent back to the model as the tool message). */
  error?: { code: ToolErrorCode; message: string };
  /** The text the model sees in the `tool` message. */
  content: string;
  durationMs: number;
}

export interface ToolContext {
  signal: AbortSignal;
  tenant: string;
}

export interface Tool {
  readonly definition: ToolDefinition;
  run(args: unknown, ctx: ToolContext): Promise<unknown>;
}

/** Where a ToolSource puts its tools (a ToolRegistry). */
export interface ToolTarget {
  has(name: string): boolean;
  register(tool: Tool): unknown;
}

/** Tools discovered at run time (MCP servers): registered into each attached target as they become known. */
export interface ToolSource {
  attach(target: ToolTarget): void;
}

export type ApprovalStatus = "pending" | "approved" | "denied" | "expired";

export interface ApprovalRequest {
  id: string;
  tenant: string;
  runId: string;
  tool: string;
  arguments: unknown;
  risk: RiskLevel;
  createdAt: number;
  expiresAt: number;
  status: ApprovalStatus;
  decidedBy?: string;
  decidedAt?: number;
  reason?: string;
  /** Opaque resumable state of the run that asked (JSON-serialisable). */
  state?: unknown;
  /** When a run was resumed from this request (resume happens at most once). */
  resumedAt?: number;
}

export interface NewApprovalRequest {
  id: string;
  tenant: string;
  runId: string;
  tool: string;
  arguments: unknown;
  risk: RiskLevel;
  createdAt: number;
  expiresAt: number;
  state?: unknown;
}

export interface ApprovalDecision {
  approve: boolean;
  by: string;
  reason?: string;
}

export type DecideOutcome =
  | { ok: true; request: ApprovalRequest }
  | { ok: false; error: "not_found" | "already_decided" | "expired"; request?: ApprovalRequest };

export interface AuditEntry {
  id: string;
  tenant: string;
  runId: string;
  tool: string;
  arguments: unknown;
  risk: RiskLevel;
  status: Exclude<ApprovalStatus, "pending">;
  /** A person for approve/deny; "system" for expirations. */
  decidedBy: string;
  decidedAt: number;
  reason?: string;
  createdAt: number;
}

/** Who expirations are attributed to in the audit trail. */
export const SYSTEM_DECIDER = "system";

export interface ApprovalStore {
  /** Persists a new pending request; resolves only once it is durable. */
  create(req: NewApprovalRequest): Promise<ApprovalRequest>;
  /** A request by id; with `tenant`, only that tenant's. */
  get(id: string, tenant?: string): Promise<ApprovalRequest | undefined>;
  /** Pending, unexpired requests of a tenant, oldest first. */
  listPending(tenant: string, now?: number): Promise<ApprovalRequest[]>;
  /** Atomic: only a pending, unexpired request can be decided, exactly once. A pending but overdue one is marked expired. */
  decide(id: string, tenant: string, decision: ApprovalDecision, now?: number): Promise<DecideOutcome>;
  /** Marks every pending request whose expiresAt <= now as expired; returns them. */
  expireDue(now?: number): Promise<ApprovalRequest[]>;
  /** Atomic claim: true for exactly one caller, only once the request is no longer pending. */
  markResumed(id: string, now?: number): Promise<boolean>;
  /** Every decision (approve, deny, expiry) of a tenant, oldest first. */
  audit(tenant: string): Promise<AuditEntry[]>;
}

/** An ApprovalStore a sweeper can drain: the decided runs nobody resumed yet (CLI decisions, restarts, other replicas). */
export interface ApprovalQueue extends ApprovalStore {
  /** Decided (or expired) requests whose run was not resumed yet, oldest decision first. */
  listUnresumed(limit?: number): Promise<ApprovalRequest[]>;
}

/** What the tool loop persists with an approval so the run can resume elsewhere. */
export interface LoopState {
  version: 1;
  runId: string;
  tenant: string;
  messages: ChatMessage[];
  /** The call awaiting approval. */
  pending: OpenAIToolCall;
  /** Calls of the same assistant turn still to run after it. */
  remaining: OpenAIToolCall[];
  usage: { steps: number; costUsd: number; elapsedMs: number };
}
