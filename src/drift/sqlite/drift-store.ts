// DriftStore on the SQLite file: one row per (signal, role), replaced on save.
// Its own idempotent schema, applied when the store is built.
import type { SqliteDb } from "../../data/index.js";
import { decodeWindow, encodeWindowData, type WindowData } from "../window-codec.js";
import type { DriftStore, StoredWindow } from "../types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS drift_windows (
  signal     TEXT NOT NULL,
  role       TEXT NOT NULL CHECK (role IN ('reference', 'current')),
  kind       TEXT NOT NULL CHECK (kind IN ('numeric', 'categorical')),
  data       TEXT NOT NULL,
  summary    TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (signal, role)
) WITHOUT ROWID;
`;

interface Row {
  signal: string;
  role: StoredWindow["role"];
  kind: StoredWindow["kind"];
  data: string;
  summary: string;
  updated_at: number;
}

export class SqliteDriftStore implements DriftStore {
  constructor(private readonly db: SqliteDb) {
    db.exec(SCHEMA);
  }

  async save(w: StoredWindow): Promise<void> {
    this.db
      .prepare("INSERT OR REPLACE INTO drift_windows (signal, role, kind, data, summary, updated_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(w.signal, w.role, w.kind, JSON.stringify(encodeWindowData(w)), JSON.stringify(w.summary), w.updatedAt);
  }

  async loadAll(): Promise<StoredWindow[]> {
    const rows = this.db.prepare("SELECT signal, role, kind, data, summary, updated_at FROM drift_windows ORDER BY signal, role").all() as Row[];
    return rows.map((r) => decodeWindow(r.signal, r.role, r.kind, JSON.parse(r.data) as WindowData, JSON.parse(r.summary) as StoredWindow["summary"], r.updated_at));
  }
}
