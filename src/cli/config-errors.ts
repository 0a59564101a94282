import { ConfigError } from "../config/index.js";

/** Run a config step; on a config error print it (naming the bad field) and exit 2. */
export function exitOnConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`stratum: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
}
