// The tools' own SQLite schema, applied idempotently on open (kept apart from
// data/sqlite/migrations.ts so the tools module stays self-contained).
import type { SqliteDb } from "../../data/index.js";

export const TOOLS_SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS tool_approvals (
  id          TEXT PRIMARY KEY,
  tenant      TEXT NOT NULL,
  run_id      TEXT NOT NULL,
  tool        TEXT NOT NULL,
  arguments   TEXT NOT NULL,
  risk        TEXT NOT NULL CHECK (risk IN ('low','medium','high')),
  status      TEXT NOT NULL CHECK (status IN ('pending','approved','denied','expired')),
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  decided_by  TEXT,
  decided_at  INTEGER,
  reason      TEXT,
  state       TEXT,
  resumed_at  INTEGER
);
CREATE INDEX IF NOT EXISTS tool_approvals_tenant_status ON tool_approvals (tenant, status, created_at);
CREATE INDEX IF NOT EXISTS tool_approvals_status_expiry ON tool_approvals (status, expires_at);
`;

export function applyToolsSchema(db: SqliteDb): void {
  db.exec(TOOLS_SQLITE_SCHEMA);
}
