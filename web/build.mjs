// Builds the web console (web/src) into dist/web with esbuild: one minified
// ES module and one stylesheet with content hashes in their names, and an
// index.html that points at them. The gateway serves the result at `/`.
//   node web/build.mjs [--out dir] [--dev]
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const WEB = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_OUT = join(WEB, "..", "dist", "web");

const page = (js, css) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Stratum console</title>
<link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Crect width='16' height='5' fill='%233b6fd8'/%3E%3Crect y='6' width='16' height='4' fill='%235a8be6'/%3E%3Crect y='11' width='16' height='5' fill='%2393b4f0'/%3E%3C/svg%3E">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Stratum console needs JavaScript.</noscript>
</body>
</html>
`;

/** Bundles the console; returns the files written with their raw and gzipped sizes. */
export async function buildConsole({ outDir = DEFAULT_OUT, dev = false } = {}) {
  const assets = join(outDir, "assets");
  rmSync(outDir, { recursive: true, force: true }); // old hashed files go too
  mkdirSync(assets, { recursive: true });
  const result = await build({
    entryPoints: { app: join(WEB, "src", "main.tsx") },
    bundle: true,
    format: "esm",
    target: ["es2020", "chrome100", "firefox100", "safari15"],
    outdir: assets,
    entryNames: "[name]-[hash]",
    minify: !dev,
    sourcemap: dev ? "inline" : false,
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    define: { "process.env.NODE_ENV": dev ? '"development"' : '"production"' },
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
  const js = outputs.find((f) => f.endsWith(".js"));
  const css = outputs.find((f) => f.endsWith(".css"));
  if (!js || !css) throw new Error(`console build produced ${outputs.join(", ")}: expected a .js and a .css file`);
  writeFileSync(join(outDir, "index.html"), page(js, css));
  return ["index.html", `assets/${js}`, `assets/${css}`].map((f) => {
    const body = readFileSync(join(outDir, f));
    return { file: relative(process.cwd(), join(outDir, f)), bytes: statSync(join(outDir, f)).size, gzip: gzipSync(body).length };
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const at = process.argv.indexOf("--out");
  const files = await buildConsole({ ...(at > 0 ? { outDir: process.argv[at + 1] } : {}), dev: process.argv.includes("--dev") });
  for (const f of files) console.log(`${f.file}  ${(f.bytes / 1024).toFixed(1)} KiB (${(f.gzip / 1024).toFixed(1)} KiB gzip)`);
}
