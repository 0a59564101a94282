// undici's Pool class on its own. The package's index loads all of undici
// (fetch, WebSocket, caches, mocks: ~5 MiB of heap in every process); the
// upstream transport needs only the Pool and its dispatch API (~1.7 MiB).
// undici has no "exports" map, so the module path is reachable; should a
// release move it, the whole package is loaded instead.
import { createRequire } from "node:module";
import type { Pool as UndiciPool } from "undici";

const require = createRequire(import.meta.url);

function loadPool(): typeof UndiciPool {
  try {
    return require("undici/lib/dispatcher/pool.js") as typeof UndiciPool;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw e;
    return (require("undici") as typeof import("undici")).Pool;
  }
}

export const Pool = loadPool();
export type Pool = UndiciPool;
