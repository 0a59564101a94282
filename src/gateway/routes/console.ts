// The web console: the single-page app built by web/build.mjs into dist/web,
// served by the gateway itself (no separate dev server). Hashed assets are
// cached for a year; index.html is never cached, so a new build shows at
// once. Unknown non-API GET paths asked for as HTML answer index.html (client-side routing).
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import { StratumError } from "../../core/errors.js";

/** dist/web beside the package root, from both src/gateway/routes and dist/gateway/routes. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL("../../../dist/web", import.meta.url));

/** Paths that belong to the API: never answered with the console's index.html. */
const API_PREFIXES = ["/v1/", "/admin/", "/metrics", "/healthz", "/readyz"];

const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Stratum console not built</title>
<body style="font:16px system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem">
<h1>The Stratum web console is not built</h1>
<p>The API works; only the browser console is missing. Build it with</p>
<pre>npm run build:web</pre>
<p>(<code>npm ci</code> runs it too, through the <code>prepare</code> script), then reload this page.</p>`;

interface Bundle {
  index: string;
  /** File name under assets/ → its bytes. Loaded once: the bundle is small and immutable. */
  assets: Map<string, Buffer>;
}

function loadBundle(dir: string): Bundle | undefined {
  const indexFile = join(dir, "index.html");
  if (!existsSync(indexFile)) return undefined;
  const assets = new Map<string, Buffer>();
  const assetDir = join(dir, "assets");
  if (existsSync(assetDir)) for (const name of readdirSync(assetDir)) assets.set(name, readFileSync(join(assetDir, name)));
  return { index: readFileSync(indexFile, "utf8"), assets };
}

export function consoleRoutes(app: FastifyInstance, opts: { dir?: string } = {}): void {
  const dir = opts.dir ?? DEFAULT_CONSOLE_DIR;
  let bundle: Bundle | undefined;
  // Looked up until found, so a console built after the server started appears without a restart.
  const current = () => (bundle ??= loadBundle(dir));

  const sendIndex = (reply: FastifyReply) => {
    const b = current();
    reply.header("cache-control", "no-cache");
    if (!b) return reply.code(503).type("text/html; charset=utf-8").send(NOT_BUILT);
    return reply.type("text/html; charset=utf-8").header("x-content-type-options", "nosniff").send(b.index);
  };

  app.get("/", (_request, reply) => sendIndex(reply));

  app.get<{ Params: { file: string } }>("/assets/:file", (request, reply) => {
    const body = current()?.assets.get(request.params.file);
    if (!body) throw new StratumError("NotFound", `No console asset ${request.params.file}`, { code: "unknown_url" });
    return reply
      .type(TYPES[extname(request.params.file)] ?? "application/octet-stream")
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("x-content-type-options", "nosniff")
      .send(body);
  });

  // Client-side routes (/chat, /traces/abc…) for browsers: the app decides what to show. A client
  // that does not ask for HTML (an SDK with a wrong base URL) keeps getting the API's JSON 404.
  app.get("/*", (request, reply) => {
    const path = request.url.split("?")[0]!;
    const wantsHtml = /\btext\/html\b/.test(String(request.headers.accept ?? ""));
    if (!wantsHtml || API_PREFIXES.some((p) => path.startsWith(p)) || path.startsWith("/assets/")) {
      throw new StratumError("NotFound", `Unknown request URL: GET ${path}.`, { code: "unknown_url" });
    }
    return sendIndex(reply);
  });
}
