// A package loaded on first use instead of at start, for packages that only
// some configurations or code paths need (YAML configs, HTML ingestion, phone
// number validation, the span resource for OTLP export, the PostgreSQL and
// Redis clients): each costs ~1-5 MiB of heap for its compiled source, kept
// for the life of the process, and time at start-up. Synchronous (require),
// so it fits synchronous code. It loads the package's CommonJS entry: for
// yaml, pg and ioredis the code an `import` runs too; for the others the only
// copy in the process, except @opentelemetry/resources with OTLP export on,
// whose exporter also imports the ESM build.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** `() => module`, loading `specifier` on the first call. */
export function lazyModule<T>(specifier: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(specifier) as T);
}
