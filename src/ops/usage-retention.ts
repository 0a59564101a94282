// Retention of the per-request usage rows. A busy gateway appends a row per
// request (~430 million a day at 5k requests a second), so the rows are kept
// for `retentionDays` and then deleted; the hourly sums beside them stay, and
// budgets and reports read those (data/usage-hours.ts). The sweep runs at start
// and every hour, a bounded batch of rows per statement with a turn of the
// event loop between batches, so it never holds the request thread for long.
// Every replica sweeps the shared store; deleting what another already deleted
// finds nothing.
import { setImmediate as nextTurn } from "node:timers/promises";
import type { UsageStore } from "../data/index.js";
import type { Logger } from "./logger.js";

const DAY_MS = 86_400_000;
const SWEEP_EVERY_MS = 3_600_000;
/** Rows per DELETE: ~5-10 ms of SQLite work. */
const BATCH_ROWS = 5_000;

export class UsageRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly store: UsageStore,
    /** 0 keeps the rows for ever. */
    private readonly retentionDays: number,
    private readonly log: Logger,
    private readonly batchRows = BATCH_ROWS,
  ) {}

  /** Sweeps now (on the next turn) and every `everyMs`. Nothing when rows are kept for ever. */
  start(everyMs = SWEEP_EVERY_MS): void {
    if (this.retentionDays <= 0 || this.timer) return;
    this.timer = setInterval(() => void this.sweep(), everyMs).unref();
    setImmediate(() => void this.sweep());
  }

  /** Deletes the rows older than the retention period; returns how many went. One sweep at a time: a second call joins the first. */
  sweep(now = Date.now()): Promise<number> {
    this.running ??= this.deleteOld(now - this.retentionDays * DAY_MS).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer and lets a sweep in progress finish its current batch (before the store closes). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async deleteOld(before: number): Promise<number> {
    if (this.retentionDays <= 0 || this.stopped) return 0; // stopped: the store may be closed already
    let total = 0;
    try {
      for (;;) {
        const n = await this.store.deleteRowsBefore(before, this.batchRows);
        total += n;
        if (n < this.batchRows || this.stopped) break;
        await nextTurn(); // requests in between
      }
    } catch (err) {
      this.log.error({ err, deleted: total }, "usage retention sweep failed; it runs again within the hour");
    }
    if (total) this.log.info({ usageRows: total, retentionDays: this.retentionDays }, "old usage rows deleted (hourly sums kept)");
    return total;
  }
}
