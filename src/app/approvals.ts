// Approvals of server-side tool calls: resumes suspended runs in this process
// (right after a decision over HTTP) and sweeps the store every few seconds:
// overdue requests expire, and decided-but-not-resumed runs (a decision made by
// `stratum approvals` from another process, on another replica, or before a
// restart) are resumed. Every replica may sweep: the store's resume claim
// (markResumed) lets exactly one of them continue a run.
import type { Logger } from "../ops/index.js";
import { StratumError } from "../core/errors.js";
import { decodeRunId, type RagPipeline, type ResumeSummary } from "../pipelines/index.js";
import type { ApprovalQueue } from "../tools/index.js";

export const DEFAULT_APPROVAL_SWEEP_MS = 5_000;

export class ApprovalService {
  /** Resumes in progress (and just finished), so the sweeper and the HTTP route share one. */
  private readonly resuming = new Map<string, Promise<ResumeSummary>>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;

  constructor(
    readonly store: ApprovalQueue,
    private readonly pipelines: ReadonlyMap<string, RagPipeline>,
    private readonly log: Logger,
    private readonly signal: AbortSignal,
  ) {}

  /** Continues the run of a decided approval; at most once (a concurrent call gets the same outcome). */
  resume(id: string): Promise<ResumeSummary> {
    const running = this.resuming.get(id);
    if (running) return running;
    const p = this.doResume(id).finally(() => {
      // Kept a little while so a caller arriving just after the sweeper finished still gets the outcome.
      setTimeout(() => this.resuming.delete(id), 60_000).unref();
    });
    this.resuming.set(id, p);
    return p;
  }

  private async doResume(id: string): Promise<ResumeSummary> {
    const req = await this.store.get(id);
    if (!req) throw new StratumError("NotFound", `approval "${id}" not found`, { code: "approval_not_found" });
    const origin = decodeRunId(req.runId);
    const pipeline = origin && this.pipelines.get(origin.pipeline);
    if (!pipeline) {
      // Nothing can continue this run any more (pipeline removed or renamed): claim it so the sweeper stops trying.
      await this.store.markResumed(id);
      this.log.warn({ approval: id, runId: req.runId }, "approval's pipeline is not configured; run abandoned");
      return { status: "failed", message: "the pipeline that asked for this approval is no longer configured" };
    }
    const out = await pipeline.resumeApproval(id, req.runId, req.tenant, this.signal);
    this.log.info({ approval: id, tenant: req.tenant, tool: req.tool, decision: req.status, outcome: out.status }, "tool run resumed");
    return out;
  }

  /** One pass: expire overdue requests, resume every decided run not resumed yet. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const expired = await this.store.expireDue();
        for (const r of expired) this.log.info({ approval: r.id, tenant: r.tenant, tool: r.tool }, "approval expired");
        for (const r of await this.store.listUnresumed()) {
          if (this.signal.aborted) return;
          try {
            await this.resume(r.id);
          } catch (err) {
            this.log.error({ err, approval: r.id }, "resuming a tool run failed");
          }
        }
      } catch (err) {
        this.log.error({ err }, "approval sweep failed");
      } finally {
        this.sweeping = undefined;
      }
    })();
    return this.sweeping;
  }

  start(intervalMs = DEFAULT_APPROVAL_SWEEP_MS): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), intervalMs);
    this.timer.unref();
  }

  /** Stops the sweeper and waits for the current pass and resumes. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await Promise.allSettled([...this.resuming.values()]);
  }
}
