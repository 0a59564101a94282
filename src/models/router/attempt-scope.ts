// One attempt on one deployment: its CallContext, aborted when the client
// leaves or a timeout fires, and the race that fails the attempt on time even
// when a provider ignores its abort. A class, not an object of closures: an
// attempt is made per request, and its methods then cost no allocation.
import type { Context } from "@opentelemetry/api";
import { StratumError } from "../../core/errors.js";
import { AttemptContext } from "./attempt-context.js";
import type { Deployment } from "./route-table.js";

export class AttemptScope {
  /** Aborted with a StratumError reason on timeout, or the client's reason. */
  readonly ctx: AttemptContext;
  private rejectRace: ((reason: unknown) => void) | undefined;
  private readonly total: NodeJS.Timeout;
  private firstToken: NodeJS.Timeout | undefined;
  private readonly onClientAbort: () => void;

  constructor(
    private readonly d: Deployment,
    private readonly client: AbortSignal,
    requestId: string,
    /** The `model.call` span's context: attempt spans are its children. */
    readonly trace: Context | undefined,
  ) {
    this.ctx = new AttemptContext(d.timeouts.connectMs, requestId);
    this.onClientAbort = () => this.abort(client.reason);
    client.addEventListener("abort", this.onClientAbort, { once: true });
    this.total = setTimeout(totalTimedOut, d.timeouts.totalMs, this);
  }

  /** The abort was the client leaving (its reason won, coming first): not the deployment's failure. */
  get clientLeft(): boolean {
    return this.ctx.aborted && this.client.aborted && this.ctx.reason === this.client.reason;
  }

  /** Every abort of the attempt comes here, so the race rejects from it directly instead of listening for it. */
  abort(reason: unknown): void {
    this.ctx.abort(reason); // the first abort wins; a later one changes nothing, and rejecting again is a no-op
    this.rejectRace?.(this.ctx.reason);
  }

  /** `p`, or a rejection with the abort reason as soon as the attempt is aborted, even if `p` never settles. One race at a time. */
  race<T>(p: Promise<T>): Promise<T> {
    if (this.ctx.aborted) {
      p.catch(() => {}); // the abandoned promise may still reject; it is handled here
      return Promise.reject(this.ctx.reason);
    }
    return new Promise<T>((resolve, reject) => {
      this.rejectRace = reject;
      p.then(
        (v) => {
          this.rejectRace = undefined;
          resolve(v);
        },
        (e: unknown) => {
          this.rejectRace = undefined;
          reject(e);
        },
      );
    });
  }

  armFirstToken(): void {
    this.firstToken = setTimeout(firstTokenTimedOut, this.d.timeouts.firstTokenMs, this);
  }

  disarmFirstToken(): void {
    clearTimeout(this.firstToken);
  }

  dispose(): void {
    clearTimeout(this.total);
    clearTimeout(this.firstToken);
    this.client.removeEventListener("abort", this.onClientAbort);
  }

  /** For the timers (plain functions with the scope as their argument: no closure per attempt). */
  timedOut(which: "total" | "firstToken"): void {
    const d = this.d;
    this.abort(
      which === "total"
        ? new StratumError("UpstreamTimeout", `${d.id}: no complete response within ${d.timeouts.totalMs} ms (total timeout)`)
        : new StratumError("UpstreamTimeout", `${d.id}: no first token within ${d.timeouts.firstTokenMs} ms`),
    );
  }
}

function totalTimedOut(scope: AttemptScope): void {
  scope.timedOut("total");
}

function firstTokenTimedOut(scope: AttemptScope): void {
  scope.timedOut("firstToken");
}
