// The tools' PostgreSQL tables as versioned migrations (module "tools" in
// stratum_schema_migrations; never edit an applied version, add one).
// Times are ms since the epoch.
import { applyMigrations, type PgMigration, type PgPool } from "../../data/postgres/index.js";

export const TOOLS_PG_MODULE = "tools";

export const TOOLS_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "tool approvals",
    sql: `
      CREATE TABLE tool_approvals (
        rid BIGINT GENERATED ALWAYS AS IDENTITY,
        id TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        run_id TEXT NOT NULL,
        tool TEXT NOT NULL,
        arguments JSONB NOT NULL,
        risk TEXT NOT NULL CHECK (risk IN ('low','medium','high')),
        status TEXT NOT NULL CHECK (status IN ('pending','approved','denied','expired')),
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        decided_by TEXT,
        decided_at BIGINT,
        reason TEXT,
        state JSONB,
        resumed_at BIGINT
      );
      CREATE INDEX tool_approvals_tenant_status ON tool_approvals (tenant, status, created_at, rid);
      CREATE INDEX tool_approvals_pending_expiry ON tool_approvals (expires_at) WHERE status = 'pending';
      CREATE INDEX tool_approvals_unresumed ON tool_approvals (decided_at, rid) WHERE status <> 'pending' AND resumed_at IS NULL;
    `,
  },
];

export function migrateTools(pool: PgPool): Promise<number[]> {
  return applyMigrations(pool, TOOLS_PG_MODULE, TOOLS_PG_MIGRATIONS);
}
