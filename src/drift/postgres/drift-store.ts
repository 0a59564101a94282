// DriftStore on PostgreSQL: one row per (signal, role), upserted on save. The
// table comes from this module's versioned migrations ("drift").
import { applyMigrations, pgQuery, type PgMigration, type PgPool } from "../../data/postgres/index.js";
import { decodeWindow, encodeWindowData } from "../window-codec.js";
import type { DriftStore, StoredWindow } from "../types.js";

export const DRIFT_PG_MODULE = "drift";

export const DRIFT_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "drift windows",
    sql: `
      CREATE TABLE drift_windows (
        signal TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('reference', 'current')),
        kind TEXT NOT NULL CHECK (kind IN ('numeric', 'categorical')),
        data JSONB NOT NULL,
        summary JSONB NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (signal, role)
      );
    `,
  },
];

export function migrateDrift(pool: PgPool): Promise<number[]> {
  return applyMigrations(pool, DRIFT_PG_MODULE, DRIFT_PG_MIGRATIONS);
}

interface Row {
  signal: string;
  role: StoredWindow["role"];
  kind: StoredWindow["kind"];
  data: ReturnType<typeof encodeWindowData>;
  summary: StoredWindow["summary"];
  updated_at: string;
}

export class PgDriftStore implements DriftStore {
  private constructor(private readonly pool: PgPool) {}

  /** Applies the drift migrations (once per schema, under the shared advisory lock) and returns the store. */
  static async open(pool: PgPool): Promise<PgDriftStore> {
    await migrateDrift(pool);
    return new PgDriftStore(pool);
  }

  async save(w: StoredWindow): Promise<void> {
    await pgQuery(
      this.pool,
      `INSERT INTO drift_windows (signal, role, kind, data, summary, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (signal, role) DO UPDATE SET kind = EXCLUDED.kind, data = EXCLUDED.data, summary = EXCLUDED.summary, updated_at = EXCLUDED.updated_at`,
      [w.signal, w.role, w.kind, JSON.stringify(encodeWindowData(w)), JSON.stringify(w.summary), w.updatedAt],
    );
  }

  async loadAll(): Promise<StoredWindow[]> {
    const { rows } = await pgQuery<Row>(this.pool, "SELECT signal, role, kind, data, summary, updated_at FROM drift_windows ORDER BY signal, role");
    return rows.map((r) => decodeWindow(r.signal, r.role, r.kind, r.data, r.summary, Number(r.updated_at)));
  }
}
