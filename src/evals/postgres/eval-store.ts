// EvalStore on PostgreSQL (storage: postgres), its tables applied as versioned
// migrations (module "evals"). A run and its items are written in one
// transaction; item and summary JSON are kept as text so any string an answer
// holds (even an escaped NUL, which jsonb refuses) round-trips exactly.
import { applyMigrations, pgQuery, withTransaction, type PgMigration, type PgPool } from "../../data/postgres/index.js";
import type { EvalRun, EvalRunSummary, EvalStore, ItemResult } from "../types.js";

export const EVALS_PG_MODULE = "evals";

export const EVALS_PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: "eval runs and items",
    sql: `
      CREATE TABLE eval_runs (
        id TEXT PRIMARY KEY,
        created_at BIGINT NOT NULL,
        model TEXT NOT NULL,
        base_url TEXT NOT NULL,
        dataset TEXT NOT NULL,
        item_count INTEGER NOT NULL,
        error_count INTEGER NOT NULL,
        duration_ms BIGINT NOT NULL,
        summary TEXT NOT NULL
      );
      CREATE INDEX eval_runs_created ON eval_runs (created_at DESC, id DESC);
      CREATE TABLE eval_run_items (
        run_id TEXT NOT NULL REFERENCES eval_runs (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        item_id TEXT NOT NULL,
        data TEXT NOT NULL,
        PRIMARY KEY (run_id, position)
      );
    `,
  },
];

export function migrateEvals(pool: PgPool): Promise<number[]> {
  return applyMigrations(pool, EVALS_PG_MODULE, EVALS_PG_MIGRATIONS);
}

type Int = string | number;

interface RunRow {
  id: string;
  created_at: Int;
  model: string;
  base_url: string;
  dataset: string;
  item_count: Int;
  error_count: Int;
  duration_ms: Int;
  summary: string;
}

function toSummary(r: RunRow): EvalRunSummary {
  return {
    id: r.id,
    createdAt: Number(r.created_at),
    model: r.model,
    baseUrl: r.base_url,
    dataset: r.dataset,
    itemCount: Number(r.item_count),
    errorCount: Number(r.error_count),
    durationMs: Number(r.duration_ms),
    summary: JSON.parse(r.summary) as EvalRunSummary["summary"],
  };
}

/** Items written per INSERT (one statement per batch, arrays via unnest). */
const ITEM_BATCH = 500;

export class PgEvalStore implements EvalStore {
  constructor(private readonly pool: PgPool) {}

  /** Applies the eval migrations (idempotent, under the migration lock), then returns the store. */
  static async open(pool: PgPool): Promise<PgEvalStore> {
    await migrateEvals(pool);
    return new PgEvalStore(pool);
  }

  async save(run: EvalRun): Promise<void> {
    await withTransaction(this.pool, async (c) => {
      await c.query(
        `INSERT INTO eval_runs (id, created_at, model, base_url, dataset, item_count, error_count, duration_ms, summary)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (id) DO UPDATE SET created_at = EXCLUDED.created_at, model = EXCLUDED.model, base_url = EXCLUDED.base_url,
           dataset = EXCLUDED.dataset, item_count = EXCLUDED.item_count, error_count = EXCLUDED.error_count,
           duration_ms = EXCLUDED.duration_ms, summary = EXCLUDED.summary`,
        [run.id, run.createdAt, run.model, run.baseUrl, run.dataset, run.itemCount, run.errorCount, Math.round(run.durationMs), JSON.stringify(run.summary)],
      );
      await c.query("DELETE FROM eval_run_items WHERE run_id = $1", [run.id]);
      for (let start = 0; start < run.items.length; start += ITEM_BATCH) {
        const batch = run.items.slice(start, start + ITEM_BATCH);
        await c.query(
          `INSERT INTO eval_run_items (run_id, position, item_id, data)
           SELECT $1, p, i, d FROM unnest($2::int[], $3::text[], $4::text[]) AS x(p, i, d)`,
          [run.id, batch.map((_, k) => start + k), batch.map((it) => it.id), batch.map((it) => JSON.stringify(it))],
        );
      }
    });
  }

  async list(): Promise<EvalRunSummary[]> {
    const { rows } = await pgQuery<RunRow>(this.pool, "SELECT * FROM eval_runs ORDER BY created_at DESC, id DESC");
    return rows.map(toSummary);
  }

  async get(id: string): Promise<EvalRun | undefined> {
    const { rows } = await pgQuery<RunRow>(this.pool, "SELECT * FROM eval_runs WHERE id = $1", [id]);
    if (!rows[0]) return undefined;
    const items = await pgQuery<{ data: string }>(this.pool, "SELECT data FROM eval_run_items WHERE run_id = $1 ORDER BY position", [id]);
    return { ...toSummary(rows[0]), items: items.rows.map((r) => JSON.parse(r.data) as ItemResult) };
  }
}
