// Test support: `stratum serve` as a real child process (tsx, no build step),
// started with `npm start`'s node flags and environment.
// Not part of the build.
import { spawn, type ChildProcess } from "node:child_process";
import { startScript } from "./start-script.js";

const ROOT = new URL("../..", import.meta.url).pathname;

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  /** What it wrote to stdout so far: its JSON log lines. */
  stdout: () => string;
  exited: Promise<number | null>;
}

/** Start a server on an ephemeral port; resolves with its URL once it listens. */
export async function spawnServer(env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  // With the start script's node flags and environment: the server runs as `npm start` runs it.
  const start = startScript();
  const child = spawn(process.execPath, [...start.nodeFlags, "--import", "tsx", "src/cli/main.ts", "serve", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...start.env, PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 30_000);
    const check = () => {
      const m = /listening on (http:\/\/[\d.:]+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stderr!.on("data", check);
    child.once("exit", () => reject(new Error(`server exited: ${err}`)));
  });
  return { child, url, stderr: () => err, stdout: () => out, exited };
}
