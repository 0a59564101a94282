import { ConfigError } from "../config/index.js";

/** On a config error print it (naming the bad field) and exit 2; anything else is rethrown. */
function exitIfConfigError(e: unknown): never {
  if (e instanceof ConfigError) {
    process.stderr.write(`stratum: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
}

/** Run a config step; on a config error print it (naming the bad field) and exit 2. */
export function exitOnConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    return exitIfConfigError(e);
  }
}

/** exitOnConfigError for a step that is async (building the server checks what the file names: model files, packages). */
export async function exitOnConfigErrorAsync<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    return exitIfConfigError(e);
  }
}
