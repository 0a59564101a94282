// Another git revision's bench servers, bundled from a temporary worktree
// that borrows this tree's node_modules (a comparison is of Stratum's code,
// not of its dependencies). Used by bench:compare and bench:instructions.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleServers, ROOT_DIR, type ServerName } from "./build.js";

const git = (...args: string[]): string => execFileSync("git", args, { cwd: ROOT_DIR, encoding: "utf8" }).trim();

/** `rev`'s short commit, or a thrown error naming the revision. */
export const commitOf = (rev: string): string => git("rev-parse", "--short", `${rev}^{commit}`);

/** The revision argument, or the usage printed and the process ended (exit 0 for --help, 2 without a revision). */
export function revisionOrUsage(rev: string | undefined, help: boolean, usage: string): string {
  if (help || !rev) {
    process.stdout.write(usage);
    process.exit(rev ? 0 : 2);
  }
  return rev;
}

/** "A = rev (commit), B = the working tree (HEAD + N changed files)" for a tool's first line. */
export function sidesLine(rev: string, commit: string): string {
  // Files changed under src/ and bench/: B is the working tree, not HEAD.
  const dirty = git("status", "--porcelain", "--", "src", "bench").split("\n").filter(Boolean).length;
  return `A = ${rev} (${commit}), B = the working tree (${git("rev-parse", "--short", "HEAD")}${dirty ? ` + ${dirty} changed files` : ""})`;
}

export interface RevisionBuild {
  /** The folder with `<name>.mjs` for each bundled server. */
  dir: string;
  /** Remove the worktree. */
  remove(): void;
}

/** Bundle `names` at `commit` (from commitOf) in a temporary worktree. */
export async function buildRevision(commit: string, names: readonly ServerName[]): Promise<RevisionBuild> {
  const checkout = mkdtempSync(join(tmpdir(), "stratum-rev-"));
  git("worktree", "add", "--detach", "--force", checkout, commit);
  const remove = () => {
    execFileSync("git", ["worktree", "remove", "--force", checkout], { cwd: ROOT_DIR });
    rmSync(checkout, { recursive: true, force: true });
  };
  try {
    symlinkSync(join(ROOT_DIR, "node_modules"), join(checkout, "node_modules"), "dir");
    return { dir: await bundleServers(checkout, join(checkout, "bench", "results", ".build"), names), remove };
  } catch (e) {
    remove();
    throw e;
  }
}
