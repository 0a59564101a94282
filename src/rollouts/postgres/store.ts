// RolloutStore on PostgreSQL: the same state as the SQLite store, shared by
// every replica (compare-and-set updates decide each step once).
import { StratumError } from "../../core/errors.js";
import { pgQuery, withTransaction, type PgPool } from "../../data/postgres/index.js";
import { p95Offset, toRollout, toStats, type LogRow, type RolloutRow } from "../rows.js";
import type { NewRollout, Rollout, RolloutLogEntry, RolloutPatch, RolloutStatus, RolloutStore, Sample, ShadowComparison, Side, VersionStats } from "../types.js";

const INSERT_LOG = "INSERT INTO rollout_log (rollout_id, at, event, message, numbers) VALUES ($1, $2, $3, $4, $5)";
const logArgs = (id: string, l: RolloutLogEntry) => [id, l.at, l.event, l.message, JSON.stringify(l.numbers)];

export class PgRolloutStore implements RolloutStore {
  constructor(private readonly pool: PgPool) {}

  async create(r: NewRollout, first: RolloutLogEntry): Promise<Rollout> {
    try {
      await withTransaction(this.pool, async (c) => {
        await c.query(
          `INSERT INTO rollouts (id, pipeline, alias, strategy, from_version, to_version, status, step_index, steps, hold, thresholds, started_at, updated_at, step_started_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13)`,
          [r.id, r.pipeline, r.alias, r.strategy, r.fromVersion, r.toVersion, r.status, r.stepIndex, JSON.stringify(r.steps), JSON.stringify(r.hold), JSON.stringify(r.thresholds), r.startedAt, r.createdBy],
        );
        await c.query(INSERT_LOG, logArgs(r.id, first));
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause ?? e;
      if ((cause as { code?: string }).code === "23505") {
        throw new StratumError("InvalidRequest", `pipeline "${r.pipeline}" already has a running rollout`, { param: "pipeline", code: "rollout_in_progress" });
      }
      throw e;
    }
    return (await this.get(r.id))!;
  }

  async get(id: string): Promise<Rollout | undefined> {
    const { rows } = await pgQuery<RolloutRow>(this.pool, "SELECT * FROM rollouts WHERE id = $1", [id]);
    return rows[0] ? toRollout(rows[0], await this.logOf(id)) : undefined;
  }

  async list(filter: { pipeline?: string; status?: RolloutStatus } = {}): Promise<Rollout[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.pipeline) (args.push(filter.pipeline), where.push(`pipeline = $${args.length}`));
    if (filter.status) (args.push(filter.status), where.push(`status = $${args.length}`));
    const { rows } = await pgQuery<RolloutRow>(this.pool, `SELECT * FROM rollouts ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY started_at DESC, id DESC LIMIT 500`, args);
    return Promise.all(rows.map(async (r) => toRollout(r, await this.logOf(r.id))));
  }

  async running(pipeline: string): Promise<Rollout | undefined> {
    const { rows } = await pgQuery<RolloutRow>(this.pool, "SELECT * FROM rollouts WHERE pipeline = $1 AND status = 'running'", [pipeline]);
    return rows[0] ? toRollout(rows[0], await this.logOf(rows[0].id)) : undefined;
  }

  async update(id: string, expect: { status: RolloutStatus; stepIndex: number }, patch: RolloutPatch, log: RolloutLogEntry[]): Promise<Rollout | undefined> {
    const applied = await withTransaction(this.pool, async (c) => {
      const res = await c.query(
        `UPDATE rollouts SET status = COALESCE($1, status), step_index = COALESCE($2, step_index), step_started_at = COALESCE($3, step_started_at), updated_at = $4
         WHERE id = $5 AND status = $6 AND step_index = $7`,
        [patch.status ?? null, patch.stepIndex ?? null, patch.stepStartedAt ?? null, Date.now(), id, expect.status, expect.stepIndex],
      );
      if (!res.rowCount) return false;
      for (const l of log) await c.query(INSERT_LOG, logArgs(id, l));
      return true;
    });
    return applied ? this.get(id) : undefined;
  }

  async appendLog(id: string, entry: RolloutLogEntry): Promise<void> {
    await pgQuery(this.pool, INSERT_LOG, logArgs(id, entry));
  }

  async recordSample(id: string, s: Sample): Promise<void> {
    await pgQuery(this.pool, "INSERT INTO rollout_samples (rollout_id, side, step, at, latency_ms, error, blocked) VALUES ($1, $2, $3, $4, $5, $6, $7)", [id, s.side, s.step, s.at, s.latencyMs, s.error ? 1 : 0, s.blocked ? 1 : 0]);
  }

  async recordScore(id: string, side: Side, metric: string, value: number): Promise<void> {
    await pgQuery(this.pool, "INSERT INTO rollout_scores (rollout_id, side, metric, value, at) VALUES ($1, $2, $3, $4, $5)", [id, side, metric, value, Date.now()]);
  }

  async stats(id: string, side: Side): Promise<VersionStats> {
    const { rows } = await pgQuery<{ n: string; errors: string; blocks: string }>(
      this.pool,
      "SELECT COUNT(*) AS n, COALESCE(SUM(error), 0) AS errors, COALESCE(SUM(blocked), 0) AS blocks FROM rollout_samples WHERE rollout_id = $1 AND side = $2",
      [id, side],
    );
    const n = Number(rows[0]!.n);
    let p95 = 0;
    if (n) {
      const r = await pgQuery<{ latency_ms: number }>(this.pool, "SELECT latency_ms FROM rollout_samples WHERE rollout_id = $1 AND side = $2 ORDER BY latency_ms LIMIT 1 OFFSET $3", [id, side, p95Offset(n)]);
      p95 = r.rows[0]?.latency_ms ?? 0;
    }
    const evals = await pgQuery<{ metric: string; mean: number }>(this.pool, "SELECT metric, AVG(value) AS mean FROM rollout_scores WHERE rollout_id = $1 AND side = $2 GROUP BY metric ORDER BY metric", [id, side]);
    return toStats(n, Number(rows[0]!.errors), Number(rows[0]!.blocks), p95, evals.rows);
  }

  async stepRequests(id: string, side: Side, step: number): Promise<number> {
    const { rows } = await pgQuery<{ n: string }>(this.pool, "SELECT COUNT(*) AS n FROM rollout_samples WHERE rollout_id = $1 AND side = $2 AND step = $3", [id, side, step]);
    return Number(rows[0]!.n);
  }

  async addShadow(id: string, c: ShadowComparison): Promise<void> {
    await pgQuery(this.pool, "INSERT INTO rollout_shadows (rollout_id, at, body) VALUES ($1, $2, $3)", [id, c.at, JSON.stringify(c)]);
  }

  async shadows(id: string, limit: number): Promise<ShadowComparison[]> {
    const { rows } = await pgQuery<{ body: ShadowComparison }>(this.pool, "SELECT body FROM rollout_shadows WHERE rollout_id = $1 ORDER BY seq DESC LIMIT $2", [id, limit]);
    return rows.map((r) => r.body);
  }

  private async logOf(id: string): Promise<LogRow[]> {
    const { rows } = await pgQuery<LogRow>(this.pool, "SELECT at, event, message, numbers FROM rollout_log WHERE rollout_id = $1 ORDER BY seq", [id]);
    return rows;
  }
}
