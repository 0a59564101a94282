// EvalStore on the data dir's SQLite file. Its own idempotent schema
// (CREATE ... IF NOT EXISTS), separate from the data layer's migrations.
import { openDatabase, type SqliteDb } from "../../data/index.js";
import type { EvalRun, EvalRunSummary, EvalStore, ItemResult } from "../types.js";

export const EVAL_SCHEMA = `
CREATE TABLE IF NOT EXISTS eval_runs (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  model TEXT NOT NULL,
  base_url TEXT NOT NULL,
  dataset TEXT NOT NULL,
  item_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  summary TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS eval_runs_created ON eval_runs (created_at DESC);
CREATE TABLE IF NOT EXISTS eval_run_items (
  run_id TEXT NOT NULL REFERENCES eval_runs(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  item_id TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (run_id, position)
);
`;

interface RunRow {
  id: string;
  created_at: number;
  model: string;
  base_url: string;
  dataset: string;
  item_count: number;
  error_count: number;
  duration_ms: number;
  summary: string;
}

function toSummary(r: RunRow): EvalRunSummary {
  return { id: r.id, createdAt: r.created_at, model: r.model, baseUrl: r.base_url, dataset: r.dataset, itemCount: r.item_count, errorCount: r.error_count, durationMs: r.duration_ms, summary: JSON.parse(r.summary) };
}

export class SqliteEvalStore implements EvalStore {
  private readonly owned: boolean;
  readonly db: SqliteDb;

  /** A database handle (shared, not closed by `close()`) or a file path (opened with `openDatabase`). */
  constructor(db: SqliteDb | string) {
    this.owned = typeof db === "string";
    this.db = typeof db === "string" ? openDatabase(db) : db;
    this.db.exec(EVAL_SCHEMA);
  }

  async save(run: EvalRun): Promise<void> {
    const insertRun = this.db.prepare(
      "INSERT OR REPLACE INTO eval_runs (id, created_at, model, base_url, dataset, item_count, error_count, duration_ms, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    );
    const delItems = this.db.prepare("DELETE FROM eval_run_items WHERE run_id = ?");
    const insertItem = this.db.prepare("INSERT INTO eval_run_items (run_id, position, item_id, data) VALUES (?, ?, ?, ?)");
    this.db.transaction(() => {
      insertRun.run(run.id, run.createdAt, run.model, run.baseUrl, run.dataset, run.itemCount, run.errorCount, Math.round(run.durationMs), JSON.stringify(run.summary));
      delItems.run(run.id);
      run.items.forEach((it, i) => insertItem.run(run.id, i, it.id, JSON.stringify(it)));
    }).immediate();
  }

  async list(): Promise<EvalRunSummary[]> {
    return (this.db.prepare("SELECT * FROM eval_runs ORDER BY created_at DESC, id DESC").all() as RunRow[]).map(toSummary);
  }

  async get(id: string): Promise<EvalRun | undefined> {
    const row = this.db.prepare("SELECT * FROM eval_runs WHERE id = ?").get(id) as RunRow | undefined;
    if (!row) return undefined;
    const items = (this.db.prepare("SELECT data FROM eval_run_items WHERE run_id = ? ORDER BY position").all(id) as Array<{ data: string }>).map((r) => JSON.parse(r.data) as ItemResult);
    return { ...toSummary(row), items };
  }

  close(): void {
    if (this.owned) this.db.close();
  }
}
