// Structured JSON logs (pino). Secrets are redacted by path and by type
// (config Secrets serialise as "[secret from env NAME]").
import { pino, destination as pinoDestination, type Logger, type LevelWithSilent } from "pino";
import { isoTimeField } from "./iso-time.js";

export type { Logger };

export function createLogger(level: LevelWithSilent = "info", destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: "stratum" },
      redact: { paths: ["authorization", "headers.authorization", "*.apiKey", "apiKey", "key", "*.key"], censor: "[redacted]" },
      timestamp: () => isoTimeField(),
    },
    // Async destination: log writes never block the event loop on stdout.
    destination ?? pinoDestination({ dest: 1, sync: false, minLength: 4096 }),
  );
}
