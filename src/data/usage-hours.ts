// Usage summed per UTC hour, key and model: what every usage store keeps
// beside the per-request rows, in the same transaction. Costs and reports read
// the sums, and the rows only for the part of a window before its first whole
// hour, so the rows can be deleted after a retention period (ops/usage-retention.ts)
// without changing any report that starts on the hour.
import { HOUR_MS, utcHourStart } from "../core/utc-period.js";
import type { UsageRecord, UsageSummaryRow } from "./types.js";

export interface HourSum {
  hour: number;
  keyId: string;
  model: string;
  tenant: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** The first hour boundary at or after `t`. */
export const nextHour = (t: number): number => (utcHourStart(t) === t ? t : utcHourStart(t) + HOUR_MS);

/**
 * `rows` summed by hour, key and model, in that order: concurrent writers then
 * lock the sums' rows in the same order (PostgreSQL: no deadlock between replicas).
 */
export function sumByHour(rows: readonly UsageRecord[]): HourSum[] {
  // Nested maps: no key string built per row (this runs on the request thread with SQLite).
  const hours = new Map<number, Map<string, Map<string, HourSum>>>();
  for (const r of rows) {
    const hour = utcHourStart(r.at);
    let keys = hours.get(hour);
    if (!keys) hours.set(hour, (keys = new Map()));
    let models = keys.get(r.keyId);
    if (!models) keys.set(r.keyId, (models = new Map()));
    const sum = models.get(r.model);
    if (sum) {
      sum.requests += 1;
      sum.promptTokens += r.promptTokens;
      sum.completionTokens += r.completionTokens;
      sum.costUsd += r.costUsd;
    } else {
      models.set(r.model, { hour, keyId: r.keyId, model: r.model, tenant: r.tenant, requests: 1, promptTokens: r.promptTokens, completionTokens: r.completionTokens, costUsd: r.costUsd });
    }
  }
  const out: HourSum[] = [];
  for (const keys of hours.values()) for (const models of keys.values()) out.push(...models.values());
  return out.sort((a, b) => a.hour - b.hour || compare(a.keyId, b.keyId) || compare(a.model, b.model));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The summary of whole hours plus the rows of the part before them: rows of the same key and model added up, costliest first. */
export function mergeSummaries(hours: readonly UsageSummaryRow[], partial: readonly UsageSummaryRow[]): UsageSummaryRow[] {
  const at = new Map<string, UsageSummaryRow>();
  for (const r of [...hours, ...partial]) {
    const id = `${r.keyId}\0${r.model}`;
    const known = at.get(id);
    if (!known) at.set(id, { ...r });
    else {
      known.requests += r.requests;
      known.promptTokens += r.promptTokens;
      known.completionTokens += r.completionTokens;
      known.costUsd += r.costUsd;
    }
  }
  return [...at.values()].sort((a, b) => b.costUsd - a.costUsd || compare(a.keyId, b.keyId) || compare(a.model, b.model));
}
