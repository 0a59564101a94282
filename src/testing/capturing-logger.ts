// A real pino logger whose lines are kept in memory, for tests that assert
// what was logged.
import { Writable } from "node:stream";
import type { LevelWithSilent } from "pino";
import { createLogger, type Logger } from "../ops/logger.js";

export function capturingLogger(level: LevelWithSilent = "info"): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      cb();
    },
  });
  return { log: createLogger(level, sink), lines };
}
