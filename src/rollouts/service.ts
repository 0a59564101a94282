// Rollout operations (start, promote, rollback), the canary's automatic
// steps and decisions, and what serving asks per request (the running
// rollout, cached briefly). Every step and decision goes to the rollout's
// stored log and to a structured log line, with the numbers behind it.
import { randomUUID } from "node:crypto";
import { StratumError } from "../core/errors.js";
import type { Logger } from "../ops/logger.js";
import { parseModelRef, PRODUCTION_ALIAS, type RegistryService } from "../registry/index.js";
import { judge } from "./judge.js";
import {
  DEFAULT_STEPS,
  DEFAULT_THRESHOLDS,
  type Hold,
  type Rollout,
  type RolloutLogEntry,
  type RolloutStatus,
  type RolloutStore,
  type RolloutStrategy,
  type Sample,
  type ShadowComparison,
  type Side,
  type Thresholds,
  type VersionStats,
} from "./types.js";

export interface StartRollout {
  pipeline: string;
  alias?: string;
  strategy: RolloutStrategy;
  toVersion: number;
  steps?: number[];
  hold?: Hold;
  thresholds?: Partial<Thresholds>;
  createdBy: string;
}

export const DEFAULT_HOLD: Hold = { requests: 50 };

export interface RolloutServiceOptions {
  /** How long serving trusts its view of the running rollout (other replicas' changes show up within it). */
  cacheMs?: number;
}

const entry = (event: string, message: string, numbers: Record<string, unknown> = {}): RolloutLogEntry => ({ at: Date.now(), event, message, numbers });

export class RolloutService {
  private readonly cacheMs: number;
  private readonly runningCache = new Map<string, { at: number; rollout: Promise<Rollout | undefined> }>();
  private readonly deciding = new Set<string>();
  private readonly listeners: Array<() => void> = [];

  constructor(
    readonly registry: RegistryService,
    readonly store: RolloutStore,
    private readonly log: Logger,
    opts: RolloutServiceOptions = {},
  ) {
    this.cacheMs = opts.cacheMs ?? 1_000;
  }

  /** Called after every rollout change made by this process. */
  onChange(fn: () => void): void {
    this.listeners.push(fn);
  }

  forgetCached(): void {
    this.runningCache.clear();
    for (const fn of this.listeners) fn();
  }

  async start(s: StartRollout): Promise<Rollout> {
    const alias = s.alias ?? PRODUCTION_ALIAS;
    const versions = await this.registry.store.versions("pipeline", s.pipeline);
    if (!versions.length) throw new StratumError("NotFound", `No pipeline "${s.pipeline}" in the registry`, { param: "pipeline", code: "pipeline_not_found" });
    if (!versions.some((v) => v.version === s.toVersion)) throw new StratumError("NotFound", `pipeline "${s.pipeline}" has no version ${s.toVersion}`, { param: "to_version", code: "version_not_found" });
    const from = (await this.registry.store.aliases("pipeline", s.pipeline))[alias];
    if (from === undefined) throw new StratumError("InvalidRequest", `pipeline "${s.pipeline}" has no alias "${alias}" to roll out from`, { param: "alias", code: "invalid_value" });
    if (from === s.toVersion) throw new StratumError("InvalidRequest", `alias "${alias}" already points at version ${from}`, { param: "to_version", code: "invalid_value" });
    const steps = s.strategy === "canary" ? normalizeSteps(s.steps ?? DEFAULT_STEPS) : [];
    const thresholds: Thresholds = { ...DEFAULT_THRESHOLDS, ...s.thresholds };
    const hold = s.strategy === "canary" ? (s.hold && (s.hold.requests || s.hold.seconds) ? s.hold : DEFAULT_HOLD) : {};
    const id = `ro_${randomUUID().replace(/-/g, "").slice(0, 20)}`;
    const base = { id, pipeline: s.pipeline, alias, strategy: s.strategy, fromVersion: from, toVersion: s.toVersion, steps, hold, thresholds, startedAt: Date.now(), createdBy: s.createdBy };
    let rollout: Rollout;
    if (s.strategy === "blue-green") {
      if (await this.store.running(s.pipeline)) throw new StratumError("InvalidRequest", `pipeline "${s.pipeline}" already has a running rollout`, { param: "pipeline", code: "rollout_in_progress" });
      await this.moveAlias(s.pipeline, alias, from, s.toVersion);
      rollout = await this.store.create({ ...base, status: "promoted", stepIndex: 0 }, entry("switched", `blue-green: ${alias} moved from v${from} to v${s.toVersion}`, { from_version: from, to_version: s.toVersion }));
    } else {
      const first =
        s.strategy === "canary"
          ? entry("started", `canary v${from} → v${s.toVersion}: ${steps[0]}% of users to the candidate`, { traffic_percent: steps[0], steps, hold, thresholds })
          : entry("started", `shadow: v${s.toVersion} receives a mirrored copy of ${alias} (v${from}) traffic`, { from_version: from, to_version: s.toVersion });
      rollout = await this.store.create({ ...base, status: "running", stepIndex: 0 }, first);
    }
    this.logLine(rollout, rollout.log[0]!);
    this.forgetCached();
    return rollout;
  }

  get(id: string): Promise<Rollout | undefined> {
    return this.store.get(id);
  }

  list(filter: { pipeline?: string; status?: RolloutStatus } = {}): Promise<Rollout[]> {
    return this.store.list(filter);
  }

  async stats(r: Rollout): Promise<{ baseline: VersionStats; candidate: VersionStats }> {
    const [baseline, candidate] = await Promise.all([this.store.stats(r.id, "baseline"), this.store.stats(r.id, "candidate")]);
    return { baseline, candidate };
  }

  /** Manual promotion: the alias moves to the candidate now. */
  async promote(id: string, by: string): Promise<Rollout> {
    const r = await this.mustGet(id);
    if (r.status !== "running") throw new StratumError("InvalidRequest", `rollout ${id} is ${r.status}; only a running rollout can be promoted`, { param: "id", code: "rollout_not_running" });
    return this.finishPromoted(r, entry("promoted", `promoted by ${by}: ${r.alias} → v${r.toVersion}`, { by, ...(await this.statNumbers(r)) }));
  }

  /** Back to the baseline: a running rollout stops; a promoted one moves its alias back at once. */
  async rollback(id: string, by: string, reason = "manual rollback"): Promise<Rollout> {
    const r = await this.mustGet(id);
    if (r.status === "running") {
      const done = await this.store.update(id, { status: "running", stepIndex: r.stepIndex }, { status: "rolled_back" }, [entry("rolled_back", `${reason} by ${by}: ${r.alias} stays at v${r.fromVersion}`, { by, ...(await this.statNumbers(r)) })]);
      return this.changed(done ?? (await this.mustGet(id)));
    }
    if (r.status === "promoted") {
      await this.moveAlias(r.pipeline, r.alias, r.toVersion, r.fromVersion);
      const done = await this.store.update(id, { status: "promoted", stepIndex: r.stepIndex }, { status: "rolled_back" }, [entry("rolled_back", `${reason} by ${by}: ${r.alias} switched back from v${r.toVersion} to v${r.fromVersion}`, { by, from_version: r.toVersion, to_version: r.fromVersion })]);
      return this.changed(done ?? (await this.mustGet(id)));
    }
    throw new StratumError("InvalidRequest", `rollout ${id} is ${r.status}; nothing to roll back`, { param: "id", code: "rollout_not_running" });
  }

  /** The running rollout of a pipeline, as serving sees it (cached for `cacheMs`). */
  running(pipeline: string): Promise<Rollout | undefined> {
    const hit = this.runningCache.get(pipeline);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.rollout;
    const rollout = this.store.running(pipeline);
    this.runningCache.set(pipeline, { at: Date.now(), rollout });
    rollout.catch(() => this.runningCache.delete(pipeline));
    return rollout;
  }

  /** A served request of a running rollout; a canary may then take its next step. Never throws. */
  async observe(r: Rollout, sample: Omit<Sample, "step" | "at">): Promise<void> {
    try {
      await this.store.recordSample(r.id, { ...sample, step: r.stepIndex, at: Date.now() });
      if (r.strategy === "canary" && sample.side === "candidate") await this.maybeStep(r);
    } catch (err) {
      this.log.error({ err, rollout: r.id }, "rollout sample not recorded");
    }
  }

  /**
   * An online-eval score of a served version, counted when the pipeline's
   * running rollout involves that version (`pipeline` may be `name@ref`, as
   * the client asked for it). Never throws: failures are logged.
   */
  async recordScore(pipeline: string, version: number, metric: string, value: number): Promise<void> {
    try {
      const r = await this.running(parseModelRef(pipeline).name);
      if (!r || !Number.isFinite(value)) return;
      const side: Side | undefined = version === r.toVersion ? "candidate" : version === r.fromVersion ? "baseline" : undefined;
      if (side) await this.store.recordScore(r.id, side, metric, value);
    } catch (err) {
      this.log.error({ err, pipeline, version, metric }, "rollout score not recorded");
    }
  }

  async addShadow(r: Rollout, c: ShadowComparison): Promise<void> {
    await this.store.addShadow(r.id, c);
  }

  /** The canary's step is judged once its hold is over (request count, or seconds checked as requests arrive). */
  private async maybeStep(r: Rollout): Promise<void> {
    if (this.deciding.has(r.id)) return;
    this.deciding.add(r.id);
    try {
      const current = await this.store.get(r.id);
      if (!current || current.status !== "running") return;
      const inStep = await this.store.stepRequests(current.id, "candidate", current.stepIndex);
      const held = (current.hold.requests !== undefined && inStep >= current.hold.requests) || (current.hold.seconds !== undefined && Date.now() - current.stepStartedAt >= current.hold.seconds * 1000);
      if (!held) return;
      const { baseline, candidate } = await this.stats(current);
      const v = judge(baseline, candidate, current.thresholds);
      const numbers = { step: current.stepIndex, traffic_percent: current.steps[current.stepIndex], step_requests: inStep, ...v.numbers };
      if (v.verdict === "wait") return;
      if (v.verdict === "fail") {
        const done = await this.store.update(current.id, { status: "running", stepIndex: current.stepIndex }, { status: "rolled_back" }, [entry("auto_rollback", `candidate v${current.toVersion} outside thresholds: ${v.reasons.join("; ")}`, numbers)]);
        if (done) this.changed(done);
        return;
      }
      const next = current.stepIndex + 1;
      if (next >= current.steps.length || current.steps[next]! >= 100) {
        await this.finishPromoted(current, entry("auto_promote", `candidate v${current.toVersion} within thresholds at ${current.steps[current.stepIndex]}%: ${current.alias} → v${current.toVersion}`, numbers));
        return;
      }
      const done = await this.store.update(current.id, { status: "running", stepIndex: current.stepIndex }, { stepIndex: next, stepStartedAt: Date.now() }, [entry("step", `within thresholds: ${current.steps[current.stepIndex]}% → ${current.steps[next]}%`, { ...numbers, next_percent: current.steps[next] })]);
      if (done) this.changed(done);
    } finally {
      this.deciding.delete(r.id);
    }
  }

  private async finishPromoted(r: Rollout, why: RolloutLogEntry): Promise<Rollout> {
    await this.moveAlias(r.pipeline, r.alias, r.fromVersion, r.toVersion);
    const done = await this.store.update(r.id, { status: "running", stepIndex: r.stepIndex }, { status: "promoted" }, [why]);
    return this.changed(done ?? (await this.mustGet(r.id)));
  }

  /** Compare-and-set of the alias; already at `to` counts as done (another replica got there first). */
  private async moveAlias(pipeline: string, alias: string, from: number, to: number): Promise<void> {
    const moved = await this.registry.setAlias("pipeline", pipeline, alias, to, { expect: from });
    if (!moved.ok && moved.previous !== to) {
      throw new StratumError("InvalidRequest", `alias "${alias}" of "${pipeline}" moved to v${moved.previous} meanwhile (expected v${from}); nothing changed`, { param: "alias", code: "alias_moved" });
    }
  }

  private async statNumbers(r: Rollout): Promise<Record<string, unknown>> {
    if (r.strategy === "blue-green") return {};
    const { baseline, candidate } = await this.stats(r);
    return { baseline_requests: baseline.requests, candidate_requests: candidate.requests, baseline_error_rate: baseline.error_rate, candidate_error_rate: candidate.error_rate, baseline_p95_ms: baseline.p95_ms, candidate_p95_ms: candidate.p95_ms };
  }

  private changed(r: Rollout): Rollout {
    const last = r.log[r.log.length - 1];
    if (last) this.logLine(r, last);
    this.forgetCached();
    return r;
  }

  private logLine(r: Rollout, e: RolloutLogEntry): void {
    this.log.info({ rollout: r.id, pipeline: r.pipeline, strategy: r.strategy, status: r.status, event: e.event, ...e.numbers }, `rollout: ${e.message}`);
  }

  private async mustGet(id: string): Promise<Rollout> {
    const r = await this.store.get(id);
    if (!r) throw new StratumError("NotFound", `No rollout ${id}`, { param: "id", code: "rollout_not_found" });
    return r;
  }
}

/** Strictly increasing percentages in (0, 100], ending at 100. */
export function normalizeSteps(steps: number[]): number[] {
  if (!steps.length) throw new StratumError("InvalidRequest", "steps must not be empty", { param: "steps", code: "invalid_value" });
  steps.forEach((p, i) => {
    if (!Number.isFinite(p) || p <= 0 || p > 100 || (i > 0 && p <= steps[i - 1]!)) {
      throw new StratumError("InvalidRequest", "steps must be strictly increasing percentages in (0, 100]", { param: `steps.${i}`, code: "invalid_value" });
    }
  });
  return steps[steps.length - 1] === 100 ? [...steps] : [...steps, 100];
}

/** Share of live traffic the candidate serves. */
export function trafficPercent(r: Rollout): number {
  if (r.status === "promoted" || r.status === "completed") return 100;
  if (r.status !== "running" || r.strategy !== "canary") return 0;
  return r.steps[r.stepIndex] ?? 0;
}
