// Re-evaluation on drift: runs an eval dataset against a pipeline through the
// evals runner (over HTTP, against this server) in the background and stores
// the run. One run at a time: alerts during a run do not queue more.
import { loadDataset, runEval, type EvalRun, type EvalStore, type EvalTarget } from "../evals/index.js";
import type { Logger } from "../ops/logger.js";
import type { DriftAlert, ReevaluationTrigger } from "./types.js";

export interface EvalReevaluatorOptions {
  dataset: string;
  pipeline: string;
  /** The server to call (known once it listens) and the key to call it with; undefined: not yet reachable. */
  target(): Omit<EvalTarget, "model"> | undefined;
  store: EvalStore;
  log: Logger;
  concurrency?: number;
  /** Called with each stored run (tests, notifications). */
  onRun?: (run: EvalRun, alert: DriftAlert) => void;
}

export class EvalReevaluator implements ReevaluationTrigger {
  private running: Promise<void> | undefined;

  constructor(private readonly o: EvalReevaluatorOptions) {}

  trigger(alert: DriftAlert): void {
    if (this.running) {
      this.o.log.info({ signal: alert.signal }, "drift re-evaluation already running; not starting another");
      return;
    }
    this.running = this.run(alert).finally(() => (this.running = undefined));
  }

  pausesScope(scope: string): boolean {
    return this.running !== undefined && scope === this.o.pipeline;
  }

  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(alert: DriftAlert): Promise<void> {
    const target = this.o.target();
    if (!target) {
      this.o.log.warn({ signal: alert.signal }, "drift re-evaluation skipped: the server is not listening yet");
      return;
    }
    try {
      const dataset = loadDataset(this.o.dataset);
      if (dataset.errors.length) this.o.log.warn({ dataset: this.o.dataset, errors: dataset.errors.length }, "drift re-evaluation: some dataset lines were skipped");
      this.o.log.info({ signal: alert.signal, pipeline: this.o.pipeline, dataset: this.o.dataset, items: dataset.items.length }, "drift re-evaluation started");
      const run = await runEval(dataset.items, { ...target, model: this.o.pipeline }, { dataset: this.o.dataset, concurrency: this.o.concurrency ?? 2 });
      await this.o.store.save(run);
      const summary = Object.fromEntries(Object.entries(run.summary).map(([k, v]) => [k, Math.round(v.mean * 1e4) / 1e4]));
      this.o.log.info({ signal: alert.signal, run: run.id, items: run.itemCount, errors: run.errorCount, summary }, "drift re-evaluation stored");
      this.o.onRun?.(run, alert);
    } catch (err) {
      this.o.log.error({ signal: alert.signal, err }, "drift re-evaluation failed");
    }
  }
}
