// Lists the files of a folder to ingest, lazily and in a stable order.
// Dotfiles, dot-directories and node_modules are skipped. Symlinks: a link to
// a file inside the root is followed; links to directories (cycles) and to
// anything outside the root are not (reported as skipped). Files with an
// unsupported extension are yielded with a `skipped` reason, so the caller
// can report them (the Ingestor reports them as failed: unsupported_type).
import { opendir, realpath, stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { typeFromExtension } from "./detect-type.js";

export interface WalkEntry {
  /** Absolute path. */
  path: string;
  /** Path relative to the root, with "/" separators. */
  rel: string;
  size: number;
  /** Set when the file is not ingested, and why. */
  skipped?: string;
}

const SKIP_DIRS = new Set(["node_modules"]);

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r !== "" && !r.startsWith("..") && !r.startsWith(sep) && !/^[a-zA-Z]:/.test(r);
}

export async function* walkFolder(root: string): AsyncGenerator<WalkEntry> {
  const realRoot = await realpath(root);
  yield* walkDir(realRoot, realRoot);
}

async function* walkDir(realRoot: string, dir: string): AsyncGenerator<WalkEntry> {
  const entries: Array<{ name: string; isDir: boolean; isFile: boolean; isLink: boolean }> = [];
  for await (const d of await opendir(dir)) {
    entries.push({ name: d.name, isDir: d.isDirectory(), isFile: d.isFile(), isLink: d.isSymbolicLink() });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const path = join(dir, e.name);
    const rel = relative(realRoot, path).split(sep).join("/");
    if (e.isDir) {
      if (!SKIP_DIRS.has(e.name)) yield* walkDir(realRoot, path);
      continue;
    }
    let size = 0;
    if (e.isLink) {
      let target: string;
      try {
        target = await realpath(path);
      } catch {
        yield { path, rel, size, skipped: "broken symbolic link" };
        continue;
      }
      if (!inside(realRoot, target)) { yield { path, rel, size, skipped: "symbolic link to a path outside the folder" }; continue; }
      const st = await stat(target);
      if (!st.isFile()) { yield { path, rel, size, skipped: "symbolic link to a directory (not followed)" }; continue; }
      size = st.size;
    } else if (!e.isFile) continue;
    else size = (await stat(path)).size;
    if (!typeFromExtension(e.name)) { yield { path, rel, size, skipped: "unsupported file type" }; continue; }
    yield { path, rel, size };
  }
}
