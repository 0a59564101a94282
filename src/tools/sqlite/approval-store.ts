// ApprovalStore on SQLite. Every state change is a single conditional UPDATE
// (WHERE status = 'pending' ...), so a decision happens exactly once even with
// several processes on the same file.
import type { SqliteDb } from "../../data/index.js";
import type {
  ApprovalDecision,
  ApprovalQueue,
  ApprovalRequest,
  AuditEntry,
  DecideOutcome,
  NewApprovalRequest,
  RiskLevel,
  ApprovalStatus,
} from "../types.js";
import { SYSTEM_DECIDER } from "../types.js";
import { applyToolsSchema } from "./schema.js";

interface Row {
  id: string;
  tenant: string;
  run_id: string;
  tool: string;
  arguments: string;
  risk: RiskLevel;
  status: ApprovalStatus;
  created_at: number;
  expires_at: number;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
  state: string | null;
  resumed_at: number | null;
}

function toRequest(r: Row): ApprovalRequest {
  const out: ApprovalRequest = {
    id: r.id,
    tenant: r.tenant,
    runId: r.run_id,
    tool: r.tool,
    arguments: JSON.parse(r.arguments) as unknown,
    risk: r.risk,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    status: r.status,
  };
  if (r.decided_by !== null) out.decidedBy = r.decided_by;
  if (r.decided_at !== null) out.decidedAt = r.decided_at;
  if (r.reason !== null) out.reason = r.reason;
  if (r.state !== null) out.state = JSON.parse(r.state) as unknown;
  if (r.resumed_at !== null) out.resumedAt = r.resumed_at;
  return out;
}

export interface SqliteApprovalStoreOptions {
  clock?: () => number;
}

export class SqliteApprovalStore implements ApprovalQueue {
  private readonly clock: () => number;

  constructor(
    private readonly db: SqliteDb,
    opts: SqliteApprovalStoreOptions = {},
  ) {
    applyToolsSchema(db);
    this.clock = opts.clock ?? Date.now;
  }

  async create(req: NewApprovalRequest): Promise<ApprovalRequest> {
    this.db
      .prepare(
        `INSERT INTO tool_approvals (id, tenant, run_id, tool, arguments, risk, status, created_at, expires_at, state)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
      )
      .run(
        req.id,
        req.tenant,
        req.runId,
        req.tool,
        JSON.stringify(req.arguments ?? null),
        req.risk,
        req.createdAt,
        req.expiresAt,
        req.state === undefined ? null : JSON.stringify(req.state),
      );
    return (await this.get(req.id))!;
  }

  async get(id: string, tenant?: string): Promise<ApprovalRequest | undefined> {
    const row = (
      tenant === undefined
        ? this.db.prepare("SELECT * FROM tool_approvals WHERE id = ?").get(id)
        : this.db.prepare("SELECT * FROM tool_approvals WHERE id = ? AND tenant = ?").get(id, tenant)
    ) as Row | undefined;
    return row ? toRequest(row) : undefined;
  }

  async listPending(tenant: string, now = this.clock()): Promise<ApprovalRequest[]> {
    const rows = this.db
      .prepare("SELECT * FROM tool_approvals WHERE tenant = ? AND status = 'pending' AND expires_at > ? ORDER BY created_at, rowid")
      .all(tenant, now) as Row[];
    return rows.map(toRequest);
  }

  async decide(id: string, tenant: string, decision: ApprovalDecision, now = this.clock()): Promise<DecideOutcome> {
    const tx = this.db.transaction((): DecideOutcome => {
      const res = this.db
        .prepare(
          `UPDATE tool_approvals SET status = ?, decided_by = ?, decided_at = ?, reason = ?
           WHERE id = ? AND tenant = ? AND status = 'pending' AND expires_at > ?`,
        )
        .run(decision.approve ? "approved" : "denied", decision.by, now, decision.reason ?? null, id, tenant, now);
      if (res.changes === 1) return { ok: true, request: toRequest(this.row(id)!) };
      const row = this.db.prepare("SELECT * FROM tool_approvals WHERE id = ? AND tenant = ?").get(id, tenant) as Row | undefined;
      if (!row) return { ok: false, error: "not_found" };
      if (row.status === "pending") {
        // Overdue: record the expiry now so the audit trail shows it.
        this.expireRow(id, now);
        return { ok: false, error: "expired", request: toRequest(this.row(id)!) };
      }
      return { ok: false, error: row.status === "expired" ? "expired" : "already_decided", request: toRequest(row) };
    });
    return tx.immediate();
  }

  async expireDue(now = this.clock()): Promise<ApprovalRequest[]> {
    const tx = this.db.transaction((): ApprovalRequest[] => {
      const ids = (
        this.db.prepare("SELECT id FROM tool_approvals WHERE status = 'pending' AND expires_at <= ?").all(now) as Array<{ id: string }>
      ).map((r) => r.id);
      for (const id of ids) this.expireRow(id, now);
      return ids.map((id) => toRequest(this.row(id)!));
    });
    return tx.immediate();
  }

  async markResumed(id: string, now = this.clock()): Promise<boolean> {
    const res = this.db
      .prepare("UPDATE tool_approvals SET resumed_at = ? WHERE id = ? AND status <> 'pending' AND resumed_at IS NULL")
      .run(now, id);
    return res.changes === 1;
  }

  /** Decided (or expired) requests whose run was not resumed yet, oldest decision first (the sweeper's work). */
  async listUnresumed(limit = 100): Promise<ApprovalRequest[]> {
    const rows = this.db
      .prepare("SELECT * FROM tool_approvals WHERE status <> 'pending' AND resumed_at IS NULL ORDER BY decided_at, rowid LIMIT ?")
      .all(limit) as Row[];
    return rows.map(toRequest);
  }

  async audit(tenant: string): Promise<AuditEntry[]> {
    const rows = this.db
      .prepare("SELECT * FROM tool_approvals WHERE tenant = ? AND status <> 'pending' ORDER BY decided_at, rowid")
      .all(tenant) as Row[];
    return rows.map((r) => {
      const e: AuditEntry = {
        id: r.id,
        tenant: r.tenant,
        runId: r.run_id,
        tool: r.tool,
        arguments: JSON.parse(r.arguments) as unknown,
        risk: r.risk,
        status: r.status as AuditEntry["status"],
        decidedBy: r.decided_by ?? SYSTEM_DECIDER,
        decidedAt: r.decided_at ?? r.expires_at,
        createdAt: r.created_at,
      };
      if (r.reason !== null) e.reason = r.reason;
      return e;
    });
  }

  private row(id: string): Row | undefined {
    return this.db.prepare("SELECT * FROM tool_approvals WHERE id = ?").get(id) as Row | undefined;
  }

  private expireRow(id: string, now: number): void {
    this.db
      .prepare(
        `UPDATE tool_approvals SET status = 'expired', decided_by = ?, decided_at = ?, reason = 'approval timed out'
         WHERE id = ? AND status = 'pending'`,
      )
      .run(SYSTEM_DECIDER, now, id);
  }
}
