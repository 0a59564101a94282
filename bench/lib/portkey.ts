// Finds @portkey-ai/gateway (in $PORTKEY_DIR, else the project) and the
// @hono/node-server its entry will load. Portkey is never a project
// dependency; install it in a scratch dir:
//   mkdir -p /tmp/portkey && cd /tmp/portkey && npm init -y
//   npm i @portkey-ai/gateway @hono/node-server@1.13.8
// and, since the gateway pulls a newer @hono/node-server whose streaming
// breaks it, pin it for the whole tree in /tmp/portkey/package.json:
//   "overrides": { "@hono/node-server": "$@hono/node-server" }
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { ROOT_DIR } from "./build.js";

export interface Portkey {
  entry: string;
  dir: string;
  version: string;
  /** Version of @hono/node-server as resolved from the gateway's entry. */
  honoNodeServer: string | undefined;
}

export const PORTKEY_MISSING =
  "Portkey: not installed (npm i --no-save @portkey-ai/gateway @hono/node-server@1.13 to include it)\n" +
  "  or install it in a scratch dir and set PORTKEY_DIR; @hono/node-server must be 1.13.x for the whole tree (bench/README.md)";

function pkgFrom(base: string): string | undefined {
  try {
    return createRequire(join(base, "noop.js")).resolve("@portkey-ai/gateway/package.json");
  } catch {
    const p = join(base, "node_modules", "@portkey-ai", "gateway", "package.json");
    return existsSync(p) ? p : undefined;
  }
}

/** The nearest node_modules/<name>/package.json walking up from `from`. */
function versionNear(from: string, name: string): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    const p = join(d, "node_modules", name, "package.json");
    if (existsSync(p)) return (JSON.parse(readFileSync(p, "utf8")) as { version?: string }).version;
    if (dirname(d) === d) return undefined;
  }
}

export function findPortkey(): Portkey | undefined {
  const bases = [process.env.PORTKEY_DIR, ROOT_DIR].filter((b): b is string => Boolean(b)).map((b) => resolve(b));
  for (const base of bases) {
    const pkgPath = pkgFrom(base);
    if (!pkgPath) continue;
    const dir = dirname(pkgPath);
    const pkg = JSON.parse(readFileSync(pkgPath, "utf8")) as { version?: string; bin?: string | Record<string, string> };
    const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin ? Object.values(pkg.bin)[0] : undefined;
    const entry = join(dir, bin ?? "build/start-server.js");
    if (!existsSync(entry)) continue;
    return { entry, dir, version: pkg.version ?? "?", honoNodeServer: versionNear(dirname(entry), "@hono/node-server") };
  }
  return undefined;
}
