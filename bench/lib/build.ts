// How the bench server entries are run. By default they are bundled with
// esbuild (a dependency of tsx) into bench/results/.build/*.mjs and run by
// plain node: the tsx loader runs its hooks on a separate thread with its own
// V8 heap, which adds ~30 MiB RSS and would distort the memory figures.
// `--runtime tsx` runs the .ts entries through tsx instead.
import { mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startScript } from "../../src/testing/start-script.js";

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const ROOT_DIR = resolve(BENCH_DIR, "..");
export const RESULTS_DIR = join(BENCH_DIR, "results");

export type ServerName = "sim" | "bare-proxy" | "stratum" | "portkey";
const NAMES: ServerName[] = ["sim", "bare-proxy", "stratum", "portkey"];

export interface Runtime {
  kind: "bundle" | "tsx";
  /** Node args that run a server entry (node flags + script). */
  args(name: ServerName, nodeFlags?: string[]): string[];
  /** Environment a server entry starts with (Stratum: the start script's assignments). */
  env(name: ServerName): Record<string, string>;
}

/** Stratum's process gets the environment and node flags `npm start` gives `stratum serve`, so it runs as the quick start's does. */
export async function prepareRuntime(kind: "bundle" | "tsx"): Promise<Runtime> {
  const start = startScript();
  const base = (name: ServerName) => (name === "stratum" ? start.nodeFlags : []);
  const env = (name: ServerName) => (name === "stratum" ? { ...start.env } : {});
  if (kind === "tsx") {
    return { kind, env, args: (name, flags = []) => [...base(name), ...flags, "--import", "tsx", join(BENCH_DIR, "servers", `${name}.ts`)] };
  }
  // Under the project so that the external packages resolve from its node_modules.
  const outDir = await bundleServers(ROOT_DIR, join(RESULTS_DIR, ".build"), NAMES);
  return { kind, env, args: (name, flags = []) => [...base(name), ...flags, join(outDir, `${name}.mjs`)] };
}

/**
 * Bundle the bench server entries of the checkout at `root` into `outDir`,
 * with Stratum's trace write thread entry beside them (it is looked up next
 * to the running module). Packages stay external: they resolve from the
 * node_modules above `outDir`.
 */
export async function bundleServers(root: string, outDir: string, names: readonly ServerName[]): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const { build } = await import("esbuild");
  await build({
    entryPoints: [
      ...names.map((n) => ({ in: join(root, "bench", "servers", `${n}.ts`), out: n })),
      { in: join(root, "src", "tracing", "sqlite", "trace-write-worker.ts"), out: "trace-write-worker" },
    ],
    outdir: outDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    logLevel: "error",
  });
  return outDir;
}
