// Shared by the bench server entries: the ready line the parent waits for,
// and a clean exit on SIGTERM/SIGINT (so --cpu-prof profiles get written).

/** Print the line the parent (bench/lib/procs.ts) waits for. */
export function ready(url: string, extra: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ ready: true, url, pid: process.pid, ...extra })}\n`);
}

/** Run `close` once on SIGTERM/SIGINT, then exit 0 (a second signal exits at once). */
export function onStop(close: () => Promise<void>): void {
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    const force = setTimeout(() => process.exit(0), 5_000);
    force.unref();
    close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`close failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** `--name value` from argv, or the default. */
export function flag(name: string, def?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  return def;
}

export function numFlag(name: string, def: number): number {
  const v = flag(name);
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number (got "${v}")`);
  return n;
}
