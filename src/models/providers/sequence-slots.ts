// A fixed set of items (a model context's sequences) lent out one request at a
// time: a free one at once, otherwise in order of asking. A waiter whose call
// is aborted leaves the queue, rejected with `abortError(reason)`.
import type { CallContext } from "../provider.js";

export class SequenceSlots<T> {
  /** Undefined until the items exist; requests meanwhile wait. */
  private free: T[] | undefined;
  private readonly waiters: Array<(item: T) => void> = [];

  /** `created` rejecting leaves every request waiting: its owner reports that failure before it asks for a slot. */
  constructor(
    created: Promise<T[]>,
    private readonly abortError: (reason: unknown) => Error,
  ) {
    created.then(
      (items) => {
        this.free = [];
        for (const item of items) this.release(item);
      },
      () => {},
    );
  }

  acquire(ctx: CallContext): Promise<T> {
    if (this.free?.length) return Promise.resolve(this.free.pop()!);
    return new Promise((resolve, reject) => {
      const take = (item: T) => {
        stop();
        resolve(item);
      };
      const stop = ctx.onAbort((reason) => {
        const i = this.waiters.indexOf(take);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(this.abortError(reason));
      });
      this.waiters.push(take);
    });
  }

  release(item: T): void {
    const next = this.waiters.shift();
    if (next) next(item);
    else this.free?.push(item);
  }
}
