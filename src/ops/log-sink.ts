// Where log lines go: lines gather for at most FLUSH_MS and leave together in
// one synchronous write, through sonic-boom (which handles partial writes,
// EAGAIN on a non-blocking pipe and EPIPE).
//
// Why not pino's async destination (sync: false, minLength 4096), used before:
// - it held lines until 4 KB had gathered, so a quiet server printed its
//   request lines minutes late, or only at exit;
// - its writes went through libuv's thread pool, a thread hand-off every few
//   lines; one write per FLUSH_MS costs next to nothing (bench/README.md has
//   what could be measured of the difference: a few percent of a request).
// More than MAX_PENDING_CHARS pending are written at once, so the pending text
// is bounded. Like pino's default destination, a full pipe makes the write
// block: a slow log reader slows the server instead of growing its memory.
import { destination } from "pino";

/** How long a line may wait for others: short enough for someone tailing the log not to notice. */
const FLUSH_MS = 50;
const MAX_PENDING_CHARS = 64 * 1024;

/** The sonic-boom surface the sink uses. */
interface LineOutput {
  write(text: string): boolean;
  flushSync(): void;
}

export class LogSink {
  private lines: string[] = [];
  private chars = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly flush = () => {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.lines.length) return;
    const text = this.lines.length === 1 ? this.lines[0]! : this.lines.join("");
    this.lines = [];
    this.chars = 0;
    this.out.write(text);
  };

  constructor(private readonly out: LineOutput) {
    // Lines still waiting at exit (a crash, process.exit) still leave.
    process.once("exit", this.flush);
  }

  /** A file descriptor (1: stdout) or a file path. */
  static to(dest: number | string): LogSink {
    return new LogSink(destination({ dest, sync: true }));
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.chars += line.length;
    if (this.chars >= MAX_PENDING_CHARS) this.flush();
    else this.timer ??= setTimeout(this.flush, FLUSH_MS).unref();
    return true;
  }

  /** Write what is pending now (pino's logger.flush() and final handlers call it). */
  flushSync(): void {
    this.flush();
    this.out.flushSync();
  }
}
