// Writes server-sent events to a raw Node response with backpressure: when the
// socket buffer is full the caller waits for 'drain', so a slow client holds
// at most one socket buffer of data (plus one loop turn's events), never an
// unbounded queue.
//
// Events produced in the same event-loop turn (an upstream TCP read often
// carries several) are joined into one string and leave in one res.write at
// the end of the turn (setImmediate), or with end(): one HTTP chunk and one
// syscall instead of one per event. Nothing waits longer than the current turn.
import type { ServerResponse } from "node:http";

/** Pending text beyond this is written at once rather than at the end of the turn. */
const MAX_PENDING = 64 * 1024;

export class SseWriter {
  private closed = false;
  private started = false;
  private pending = "";
  private scheduled = false;
  /** The last res.write returned false and no 'drain' came yet. */
  private full = false;
  private readonly flush = () => {
    this.scheduled = false;
    if (!this.pending || this.isClosed) return;
    const text = this.pending;
    this.pending = "";
    this.put(text);
  };
  private waiters: Array<() => void> = [];
  private readonly onDrain = () => {
    this.full = false;
    for (const w of this.waiters.splice(0)) w();
  };
  constructor(private readonly res: ServerResponse) {
    res.once("close", () => {
      this.closed = true;
      this.onDrain();
    });
  }

  private put(text: string): void {
    if (!this.res.write(text) && !this.full) {
      this.full = true;
      this.res.once("drain", this.onDrain);
    }
  }

  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  start(headers: Record<string, string>): void {
    this.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      ...headers,
    });
    // No flushHeaders(): the router hands over a stream only once its first
    // chunk is in hand, so headers leave with it in the same write.
  }

  /**
   * Queue one event. Returns false when the socket buffer is full: the caller
   * should then `await drained()` before producing more.
   */
  send(text: string): boolean {
    if (this.isClosed) return true;
    // The first event (with the headers) goes to the socket at once. Node corks
    // a response's socket until the next tick, so events produced in the same
    // tick still share its write (strace: one response write per short answer
    // that arrived whole). Later events are coalesced per loop turn.
    if (!this.started) {
      this.started = true;
      this.put(text);
      return !this.full;
    }
    this.pending += text;
    if (this.pending.length >= MAX_PENDING) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flush);
    }
    return !this.full;
  }

  /** Write one event; resolves when the socket can take more. */
  async write(text: string): Promise<void> {
    if (!this.send(text)) await this.drained();
  }

  /** Resolves once the socket buffer has room again (or the client left). */
  drained(): Promise<void> {
    if (!this.full || this.isClosed) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  end(text?: string): void {
    if (this.isClosed) return;
    const rest = this.pending + (text ?? "");
    this.pending = "";
    this.res.end(rest || undefined);
  }
}
