// RolloutStore on the SQLite file: rollouts, their log, per-request samples,
// online-eval scores and shadow comparisons. Every process opening the file
// (server, CLI) sees the same rollout.
import { StratumError } from "../../core/errors.js";
import type { SqliteDb } from "../../data/index.js";
import { p95Offset, toRollout, toStats, type LogRow, type RolloutRow } from "../rows.js";
import type { NewRollout, Rollout, RolloutLogEntry, RolloutPatch, RolloutStatus, RolloutStore, Sample, ShadowComparison, Side, VersionStats } from "../types.js";
import { applyRolloutSchema } from "./schema.js";

export class SqliteRolloutStore implements RolloutStore {
  constructor(private readonly db: SqliteDb) {
    applyRolloutSchema(db);
  }

  async create(r: NewRollout, first: RolloutLogEntry): Promise<Rollout> {
    try {
      this.db
        .transaction(() => {
          this.db
            .prepare(
              `INSERT INTO rollouts (id, pipeline, alias, strategy, from_version, to_version, status, step_index, steps, hold, thresholds, started_at, updated_at, step_started_at, created_by)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(r.id, r.pipeline, r.alias, r.strategy, r.fromVersion, r.toVersion, r.status, r.stepIndex, JSON.stringify(r.steps), JSON.stringify(r.hold), JSON.stringify(r.thresholds), r.startedAt, r.startedAt, r.startedAt, r.createdBy);
          this.insertLog(r.id, first);
        })
        .immediate();
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new StratumError("InvalidRequest", `pipeline "${r.pipeline}" already has a running rollout`, { param: "pipeline", code: "rollout_in_progress" });
      }
      throw e;
    }
    return (await this.get(r.id))!;
  }

  async get(id: string): Promise<Rollout | undefined> {
    const row = this.db.prepare("SELECT * FROM rollouts WHERE id = ?").get(id) as RolloutRow | undefined;
    return row ? toRollout(row, this.logOf(id)) : undefined;
  }

  async list(filter: { pipeline?: string; status?: RolloutStatus } = {}): Promise<Rollout[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.pipeline) (where.push("pipeline = ?"), args.push(filter.pipeline));
    if (filter.status) (where.push("status = ?"), args.push(filter.status));
    const rows = this.db.prepare(`SELECT * FROM rollouts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at DESC, id DESC LIMIT 500`).all(...args) as RolloutRow[];
    return rows.map((r) => toRollout(r, this.logOf(r.id)));
  }

  async running(pipeline: string): Promise<Rollout | undefined> {
    const row = this.db.prepare("SELECT * FROM rollouts WHERE pipeline = ? AND status = 'running'").get(pipeline) as RolloutRow | undefined;
    return row ? toRollout(row, this.logOf(row.id)) : undefined;
  }

  async update(id: string, expect: { status: RolloutStatus; stepIndex: number }, patch: RolloutPatch, log: RolloutLogEntry[]): Promise<Rollout | undefined> {
    const applied = this.db
      .transaction(() => {
        const now = Date.now();
        const res = this.db
          .prepare(
            `UPDATE rollouts SET status = COALESCE(?, status), step_index = COALESCE(?, step_index), step_started_at = COALESCE(?, step_started_at), updated_at = ?
             WHERE id = ? AND status = ? AND step_index = ?`,
          )
          .run(patch.status ?? null, patch.stepIndex ?? null, patch.stepStartedAt ?? null, now, id, expect.status, expect.stepIndex);
        if (res.changes === 0) return false;
        for (const l of log) this.insertLog(id, l);
        return true;
      })
      .immediate();
    return applied ? this.get(id) : undefined;
  }

  async appendLog(id: string, entry: RolloutLogEntry): Promise<void> {
    this.insertLog(id, entry);
  }

  async recordSample(id: string, s: Sample): Promise<void> {
    this.db.prepare("INSERT INTO rollout_samples (rollout_id, side, step, at, latency_ms, error, blocked) VALUES (?, ?, ?, ?, ?, ?, ?)").run(id, s.side, s.step, s.at, s.latencyMs, s.error ? 1 : 0, s.blocked ? 1 : 0);
  }

  async recordScore(id: string, side: Side, metric: string, value: number): Promise<void> {
    this.db.prepare("INSERT INTO rollout_scores (rollout_id, side, metric, value, at) VALUES (?, ?, ?, ?, ?)").run(id, side, metric, value, Date.now());
  }

  async stats(id: string, side: Side): Promise<VersionStats> {
    const agg = this.db.prepare("SELECT COUNT(*) AS n, COALESCE(SUM(error), 0) AS errors, COALESCE(SUM(blocked), 0) AS blocks FROM rollout_samples WHERE rollout_id = ? AND side = ?").get(id, side) as { n: number; errors: number; blocks: number };
    const p95 = agg.n
      ? ((this.db.prepare("SELECT latency_ms FROM rollout_samples WHERE rollout_id = ? AND side = ? ORDER BY latency_ms LIMIT 1 OFFSET ?").get(id, side, p95Offset(agg.n)) as { latency_ms: number }).latency_ms)
      : 0;
    const evals = this.db.prepare("SELECT metric, AVG(value) AS mean FROM rollout_scores WHERE rollout_id = ? AND side = ? GROUP BY metric ORDER BY metric").all(id, side) as Array<{ metric: string; mean: number }>;
    return toStats(agg.n, agg.errors, agg.blocks, p95, evals);
  }

  async stepRequests(id: string, side: Side, step: number): Promise<number> {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM rollout_samples WHERE rollout_id = ? AND side = ? AND step = ?").get(id, side, step) as { n: number }).n;
  }

  async addShadow(id: string, c: ShadowComparison): Promise<void> {
    this.db.prepare("INSERT INTO rollout_shadows (rollout_id, at, body) VALUES (?, ?, ?)").run(id, c.at, JSON.stringify(c));
  }

  async shadows(id: string, limit: number): Promise<ShadowComparison[]> {
    const rows = this.db.prepare("SELECT body FROM rollout_shadows WHERE rollout_id = ? ORDER BY seq DESC LIMIT ?").all(id, limit) as Array<{ body: string }>;
    return rows.map((r) => JSON.parse(r.body) as ShadowComparison);
  }

  private insertLog(id: string, l: RolloutLogEntry): void {
    this.db.prepare("INSERT INTO rollout_log (rollout_id, at, event, message, numbers) VALUES (?, ?, ?, ?, ?)").run(id, l.at, l.event, l.message, JSON.stringify(l.numbers));
  }

  private logOf(id: string): LogRow[] {
    return this.db.prepare("SELECT at, event, message, numbers FROM rollout_log WHERE rollout_id = ? ORDER BY seq").all(id) as LogRow[];
  }
}
