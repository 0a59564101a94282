// Cost caps per API key and per tenant, per UTC day and calendar month. A key's
// own caps win over the configured default per key; a tenant's caps (named, or
// the default per tenant) cap all its keys together. Admission checks every
// cap that applies; over any of them, the request is blocked (429 until the
// latest of the exceeded windows resets) or downgraded to a cheaper alias.
import { StratumError } from "../core/errors.js";
import { utcWindow, type UtcPeriod } from "../core/utc-period.js";
import type { BudgetConfig } from "../config/schema.js";
import type { ApiKeyRecord, SpendSubject } from "../data/types.js";
import type { Metrics } from "../ops/metrics.js";
import type { UsageRecorder } from "../ops/usage-recorder.js";

export interface BudgetCap {
  subject: SpendSubject;
  period: UtcPeriod;
  limitUsd: number;
}

export interface BudgetStatus extends BudgetCap {
  spentUsd: number;
  /** When the period's spend starts again from zero (ms since the epoch). */
  resetsAt: number;
}

const NO_CAPS: readonly BudgetCap[] = Object.freeze([]);

/** The caps that apply to a key's requests (the same empty list, allocating nothing, when none do). */
function budgetCaps(key: ApiKeyRecord, cfg: BudgetConfig): readonly BudgetCap[] {
  const named = Object.hasOwn(cfg.tenants, key.tenant) ? cfg.tenants[key.tenant] : undefined;
  const tenant = named || cfg.perTenant ? { ...cfg.perTenant, ...named } : undefined;
  const keyDay = key.limits.dailyBudgetUsd ?? cfg.dailyUsd;
  const keyMonth = key.limits.monthlyBudgetUsd ?? cfg.monthlyUsd;
  if (keyDay === undefined && keyMonth === undefined && tenant?.dailyUsd === undefined && tenant?.monthlyUsd === undefined) return NO_CAPS;
  const caps: BudgetCap[] = [];
  const keySubject: SpendSubject = { kind: "key", id: key.id };
  const tenantSubject: SpendSubject = { kind: "tenant", id: key.tenant };
  if (keyDay !== undefined) caps.push({ subject: keySubject, period: "day", limitUsd: keyDay });
  if (keyMonth !== undefined) caps.push({ subject: keySubject, period: "month", limitUsd: keyMonth });
  if (tenant?.dailyUsd !== undefined) caps.push({ subject: tenantSubject, period: "day", limitUsd: tenant.dailyUsd });
  if (tenant?.monthlyUsd !== undefined) caps.push({ subject: tenantSubject, period: "month", limitUsd: tenant.monthlyUsd });
  return caps;
}

export class Budgets {
  constructor(
    private readonly cfg: BudgetConfig,
    private readonly usage: UsageRecorder,
    private readonly metrics: Metrics,
  ) {}

  /** The caps on a key's requests (none: admission skips the check and its await). */
  capsFor(key: ApiKeyRecord): readonly BudgetCap[] {
    return budgetCaps(key, this.cfg);
  }

  /**
   * Checks a key's caps before a request. Returns the alias to serve it with
   * instead when a cap is used up and the policy downgrades; throws
   * BudgetExceeded when it blocks.
   */
  async admit(caps: readonly BudgetCap[]): Promise<string | undefined> {
    const over = (await this.measure(caps)).filter((s) => s.spentUsd >= s.limitUsd);
    if (!over.length) return undefined;
    if (this.cfg.onExceeded === "downgrade" && this.cfg.downgradeTo) return this.cfg.downgradeTo;
    for (const s of over) this.metrics.rateLimited.inc({ scope: s.subject.kind, limit: "budget" });
    const resetsAt = Math.max(...over.map((s) => s.resetsAt));
    throw new StratumError("BudgetExceeded", over.map(describeOverrun).join(" "), { retryAfterMs: resetsAt - Date.now() });
  }

  /** Spend against every cap of the given keys (a tenant's caps once). */
  async status(keys: readonly ApiKeyRecord[]): Promise<BudgetStatus[]> {
    const seen = new Set<string>();
    const caps: BudgetCap[] = [];
    for (const key of keys) {
      for (const c of this.capsFor(key)) {
        const id = `${c.subject.kind}\0${c.subject.id}\0${c.period}`;
        if (!seen.has(id)) caps.push(c), seen.add(id);
      }
    }
    return this.measure(caps);
  }

  private measure(caps: readonly BudgetCap[]): Promise<BudgetStatus[]> {
    const now = Date.now();
    return Promise.all(caps.map(async (c) => ({ ...c, spentUsd: await this.usage.spent(c.subject, c.period), resetsAt: utcWindow(c.period, now).end })));
  }
}

/** A budget as the API shows it (`GET /admin/budgets`, `GET /v1/me`). */
export function budgetView(s: BudgetStatus) {
  return { scope: s.subject.kind, id: s.subject.id, period: s.period, limit_usd: s.limitUsd, spent_usd: s.spentUsd, resets_at: new Date(s.resetsAt).toISOString() };
}

function describeOverrun(s: BudgetStatus): string {
  const whose = s.subject.kind === "key" ? "this key" : `tenant "${s.subject.id}"`;
  const period = s.period === "day" ? "Daily" : "Monthly";
  const spent = s.period === "day" ? "today" : "this month";
  return `${period} budget of $${s.limitUsd.toFixed(4)} for ${whose} is used up ($${s.spentUsd.toFixed(4)} spent ${spent}). It resets at ${new Date(s.resetsAt).toISOString()}.`;
}
