// Another git revision's bench servers, bundled from a temporary worktree
// that borrows this tree's node_modules (a comparison is of Stratum's code,
// not of its dependencies). Used by bench:compare and bench:instructions.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundleServers, ROOT_DIR, type ServerName } from "./build.js";

export const git = (...args: string[]): string => execFileSync("git", args, { cwd: ROOT_DIR, encoding: "utf8" }).trim();

/** `rev`'s short commit, or a thrown error naming the revision. */
export const commitOf = (rev: string): string => git("rev-parse", "--short", `${rev}^{commit}`);

/** Files changed under src/ and bench/ in the working tree (B's "+ N changed files"). */
export const changedFiles = (): number => git("status", "--porcelain", "--", "src", "bench").split("\n").filter(Boolean).length;

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
