// package.json's start script, read as data: the quick start's environment
// and node flags (GC and WebAssembly settings node takes only on its command
// line). The serve tests start their server with them, and the bench starts
// its Stratum processes with them, so both run it as `npm start` does.
import { readFileSync } from "node:fs";

const PACKAGE_JSON = new URL("../../package.json", import.meta.url);

export interface StartScript {
  /** The leading `NAME=value` assignments. */
  env: Record<string, string>;
  /** The flags between `node` and the script. */
  nodeFlags: string[];
}

/** `[NAME=value ...] node <flags> dist/cli/main.js serve`, taken apart. */
export function startScript(): StartScript {
  const start = (JSON.parse(readFileSync(PACKAGE_JSON, "utf8")) as { scripts?: { start?: string } }).scripts?.start ?? "";
  const { env, rest } = takeEnvAssignments(start.split(/\s+/).filter(Boolean));
  if (rest[0] !== "node") throw new Error(`package.json's start script does not run node: "${start}"`);
  const nodeFlags: string[] = [];
  for (const w of rest.slice(1)) {
    if (!w.startsWith("-")) break;
    nodeFlags.push(w);
  }
  return { env, nodeFlags };
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** The leading `NAME=value` words as an environment, and the words after them. */
export function takeEnvAssignments(words: readonly string[]): { env: Record<string, string>; rest: string[] } {
  const env: Record<string, string> = {};
  let i = 0;
  for (let m; i < words.length && (m = ASSIGNMENT.exec(words[i]!)); i++) env[m[1]!] = m[2]!;
  return { env, rest: words.slice(i) };
}
