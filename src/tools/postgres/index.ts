// The tools' PostgreSQL implementations (approvals shared by every replica).
export { PgApprovalStore, type PgApprovalStoreOptions } from "./approval-store.js";
export { migrateTools, TOOLS_PG_MIGRATIONS, TOOLS_PG_MODULE } from "./migrations.js";
