// Writes server-sent events to a raw Node response with backpressure: when the
// socket buffer is full we wait for 'drain', so a slow client holds at most
// one socket buffer of data, never an unbounded queue.
//
// Events produced in the same event-loop turn (an upstream TCP read often
// carries several) are corked and leave in one syscall at the end of the turn
// (setImmediate), instead of one write per event. Nothing waits longer than
// the current turn.
import type { ServerResponse } from "node:http";

export class SseWriter {
  private closed = false;
  private corked = false;
  private started = false;
  private readonly uncork = () => {
    if (!this.corked) return;
    this.corked = false;
    this.res.uncork();
  };
  constructor(private readonly res: ServerResponse) {
    res.once("close", () => (this.closed = true));
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

  /** Write one event; resolves when the socket can take more. */
  async write(text: string): Promise<void> {
    if (this.isClosed) return;
    // The first event (with the headers) goes out at once: time to first byte
    // matters more than one saved syscall. Later events are coalesced.
    if (!this.started) {
      this.started = true;
      if (!this.res.write(text)) await this.drained();
      return;
    }
    if (!this.corked) {
      this.corked = true;
      this.res.cork();
      setImmediate(this.uncork);
    }
    if (!this.res.write(text)) {
      this.uncork();
      await this.drained();
    }
  }

  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.res.off("drain", done);
        this.res.off("close", done);
        resolve();
      };
      this.res.on("drain", done);
      this.res.on("close", done);
    });
  }

  end(text?: string): void {
    if (this.isClosed) return;
    this.uncork();
    this.res.end(text);
  }
}
