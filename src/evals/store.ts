// In-memory EvalStore (tests, one-off runs).
import type { EvalRun, EvalRunSummary, EvalStore } from "./types.js";

export function runSummary(run: EvalRun): EvalRunSummary {
  const { items: _items, ...summary } = run;
  return summary;
}

export class MemoryEvalStore implements EvalStore {
  private readonly runs = new Map<string, EvalRun>();
  async save(run: EvalRun): Promise<void> {
    this.runs.set(run.id, structuredClone(run));
  }
  async list(): Promise<EvalRunSummary[]> {
    return [...this.runs.values()].sort((a, b) => b.createdAt - a.createdAt || b.id.localeCompare(a.id)).map(runSummary);
  }
  async get(id: string): Promise<EvalRun | undefined> {
    const r = this.runs.get(id);
    return r ? structuredClone(r) : undefined;
  }
}
