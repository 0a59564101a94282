// Structured JSON logs (pino). Secrets are redacted by key and by type
// (config Secrets serialise as "[secret from env NAME]").
import { pino, type DestinationStream, type Logger, type LevelWithSilent } from "pino";
import { isoTimeField } from "./iso-time.js";
import { LogSink } from "./log-sink.js";

export type { Logger };

/** Keys whose values never reach a log line, at the top level or one object down. */
const SECRET_KEYS = new Set(["authorization", "apiKey", "key"]);
const CENSOR = "[redacted]";

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Error);

/** `obj` with secret keys censored: the caller's object is never changed, and one without secrets is returned as is. */
function withoutSecrets(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const k in obj) {
    const v = obj[k];
    let censored: unknown;
    if (SECRET_KEYS.has(k)) censored = CENSOR;
    else if (isPlainObject(v)) {
      let inner: Record<string, unknown> = v;
      for (const j in v) {
        if (!SECRET_KEYS.has(j)) continue;
        if (inner === v) inner = { ...v };
        inner[j] = CENSOR;
      }
      if (inner === v) continue;
      censored = inner;
    } else continue;
    if (out === obj) out = { ...obj };
    out[k] = censored;
  }
  return out;
}

export function createLogger(level: LevelWithSilent = "info", destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "stratum" },
      // Not pino's `redact` option: pino 9.14's path redaction parses its paths and copies the
      // object on every line (~2.5 µs and ~4 KB per request log line); this check is one pass
      // over the line's keys.
      formatters: { log: withoutSecrets },
      timestamp: () => isoTimeField(),
    },
    // Stdout, a write per batch of up to 50 ms (log-sink.ts).
    destination ?? LogSink.to(1),
  );
}
