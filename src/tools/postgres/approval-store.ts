// ApprovalStore on PostgreSQL, shared by every replica. A decision locks the
// row (SELECT ... FOR UPDATE inside a transaction), so concurrent decisions on
// any number of replicas have exactly one winner; expiry and the resume claim
// are single conditional UPDATEs (... WHERE status = 'pending' / resumed_at IS
// NULL RETURNING), which PostgreSQL re-checks after waiting on the row lock.
import { pgQuery, withTransaction, type PgClient, type PgPool } from "../../data/postgres/index.js";
import type {
  ApprovalDecision,
  ApprovalQueue,
  ApprovalRequest,
  ApprovalStatus,
  AuditEntry,
  DecideOutcome,
  NewApprovalRequest,
  RiskLevel,
} from "../types.js";
import { SYSTEM_DECIDER } from "../types.js";
import { migrateTools } from "./migrations.js";

type Int = string | number;

interface Row {
  id: string;
  tenant: string;
  run_id: string;
  tool: string;
  arguments: unknown;
  risk: RiskLevel;
  status: ApprovalStatus;
  created_at: Int;
  expires_at: Int;
  decided_by: string | null;
  decided_at: Int | null;
  reason: string | null;
  state: unknown;
  resumed_at: Int | null;
}

function toRequest(r: Row): ApprovalRequest {
  const out: ApprovalRequest = {
    id: r.id,
    tenant: r.tenant,
    runId: r.run_id,
    tool: r.tool,
    arguments: r.arguments,
    risk: r.risk,
    createdAt: Number(r.created_at),
    expiresAt: Number(r.expires_at),
    status: r.status,
  };
  if (r.decided_by !== null) out.decidedBy = r.decided_by;
  if (r.decided_at !== null) out.decidedAt = Number(r.decided_at);
  if (r.reason !== null) out.reason = r.reason;
  if (r.state !== null) out.state = r.state;
  if (r.resumed_at !== null) out.resumedAt = Number(r.resumed_at);
  return out;
}

const EXPIRE_SET = `status = 'expired', decided_by = '${SYSTEM_DECIDER}', decided_at = $1, reason = 'approval timed out'`;

export interface PgApprovalStoreOptions {
  clock?: () => number;
}

export class PgApprovalStore implements ApprovalQueue {
  private readonly clock: () => number;

  constructor(
    private readonly pool: PgPool,
    opts: PgApprovalStoreOptions = {},
  ) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Applies the tools' migrations (idempotent, under the migration lock), then returns the store. */
  static async open(pool: PgPool, opts: PgApprovalStoreOptions = {}): Promise<PgApprovalStore> {
    await migrateTools(pool);
    return new PgApprovalStore(pool, opts);
  }

  async create(req: NewApprovalRequest): Promise<ApprovalRequest> {
    const { rows } = await pgQuery<Row>(
      this.pool,
      `INSERT INTO tool_approvals (id, tenant, run_id, tool, arguments, risk, status, created_at, expires_at, state)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, 'pending', $7, $8, $9::jsonb) RETURNING *`,
      [
        req.id,
        req.tenant,
        req.runId,
        req.tool,
        JSON.stringify(req.arguments ?? null),
        req.risk,
        req.createdAt,
        req.expiresAt,
        req.state === undefined ? null : JSON.stringify(req.state),
      ],
    );
    return toRequest(rows[0]!);
  }

  async get(id: string, tenant?: string): Promise<ApprovalRequest | undefined> {
    const { rows } =
      tenant === undefined
        ? await pgQuery<Row>(this.pool, "SELECT * FROM tool_approvals WHERE id = $1", [id])
        : await pgQuery<Row>(this.pool, "SELECT * FROM tool_approvals WHERE id = $1 AND tenant = $2", [id, tenant]);
    return rows[0] ? toRequest(rows[0]) : undefined;
  }

  async listPending(tenant: string, now = this.clock()): Promise<ApprovalRequest[]> {
    const { rows } = await pgQuery<Row>(
      this.pool,
      "SELECT * FROM tool_approvals WHERE tenant = $1 AND status = 'pending' AND expires_at > $2 ORDER BY created_at, rid",
      [tenant, now],
    );
    return rows.map(toRequest);
  }

  async decide(id: string, tenant: string, decision: ApprovalDecision, now = this.clock()): Promise<DecideOutcome> {
    return withTransaction(this.pool, async (c: PgClient): Promise<DecideOutcome> => {
      // The row lock: a concurrent decider on any replica waits here, then sees the decided row.
      const { rows } = await c.query<Row>("SELECT * FROM tool_approvals WHERE id = $1 AND tenant = $2 FOR UPDATE", [id, tenant]);
      const row = rows[0];
      if (!row) return { ok: false, error: "not_found" };
      if (row.status !== "pending") {
        return { ok: false, error: row.status === "expired" ? "expired" : "already_decided", request: toRequest(row) };
      }
      if (Number(row.expires_at) <= now) {
        // Overdue: record the expiry now so the audit trail shows it.
        const expired = await c.query<Row>(`UPDATE tool_approvals SET ${EXPIRE_SET} WHERE id = $2 RETURNING *`, [now, id]);
        return { ok: false, error: "expired", request: toRequest(expired.rows[0]!) };
      }
      const updated = await c.query<Row>(
        "UPDATE tool_approvals SET status = $1, decided_by = $2, decided_at = $3, reason = $4 WHERE id = $5 RETURNING *",
        [decision.approve ? "approved" : "denied", decision.by, now, decision.reason ?? null, id],
      );
      return { ok: true, request: toRequest(updated.rows[0]!) };
    });
  }

  async expireDue(now = this.clock()): Promise<ApprovalRequest[]> {
    // Only the rows this call changed come back: with several replicas sweeping, each expiry is reported once.
    const { rows } = await pgQuery<Row>(
      this.pool,
      `UPDATE tool_approvals SET ${EXPIRE_SET} WHERE status = 'pending' AND expires_at <= $1 RETURNING *`,
      [now],
    );
    return rows.map(toRequest).sort((a, b) => a.expiresAt - b.expiresAt);
  }

  async markResumed(id: string, now = this.clock()): Promise<boolean> {
    const { rowCount } = await pgQuery(
      this.pool,
      "UPDATE tool_approvals SET resumed_at = $1 WHERE id = $2 AND status <> 'pending' AND resumed_at IS NULL",
      [now, id],
    );
    return rowCount === 1;
  }

  async listUnresumed(limit = 100): Promise<ApprovalRequest[]> {
    const { rows } = await pgQuery<Row>(
      this.pool,
      "SELECT * FROM tool_approvals WHERE status <> 'pending' AND resumed_at IS NULL ORDER BY decided_at, rid LIMIT $1",
      [limit],
    );
    return rows.map(toRequest);
  }

  async audit(tenant: string): Promise<AuditEntry[]> {
    const { rows } = await pgQuery<Row>(
      this.pool,
      "SELECT * FROM tool_approvals WHERE tenant = $1 AND status <> 'pending' ORDER BY decided_at, rid",
      [tenant],
    );
    return rows.map((r) => {
      const e: AuditEntry = {
        id: r.id,
        tenant: r.tenant,
        runId: r.run_id,
        tool: r.tool,
        arguments: r.arguments,
        risk: r.risk,
        status: r.status as AuditEntry["status"],
        decidedBy: r.decided_by ?? SYSTEM_DECIDER,
        decidedAt: Number(r.decided_at ?? r.expires_at),
        createdAt: Number(r.created_at),
      };
      if (r.reason !== null) e.reason = r.reason;
      return e;
    });
  }
}
