// `stratum registry` and `stratum rollout` as child processes on the data dir
// of a running server: versions added, deduplicated and aliased from the CLI,
// a blue-green rollout and its rollback seen by the server, a canary started
// and promoted, and errors with exit code 1.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, startTestServer, type TestServer } from "../testing/harness.js";

type Json = any;

const ROOT = new URL("../..", import.meta.url).pathname;

function stratum(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["STRATUM_CONFIG", "STRATUM_DATA_DIR", "STRATUM_API_KEY", "HOST", "PORT"]) delete base[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("stratum registry / rollout on a running server's data dir", () => {
  let dataDir: string;
  let env: Record<string, string>;
  let srv: TestServer;
  let specFile: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "stratum-registry-cli-"));
    env = { STRATUM_DATA_DIR: dataDir };
    srv = await startTestServer({ cache: { enabled: false }, pipelines: [{ name: "assistant", route: "extractive", retrieval: { minConfidence: 0 } }] }, { dataDir });
    specFile = join(dataDir, "v2.yaml");
    writeFileSync(specFile, "route: extractive\nretrieval:\n  minConfidence: 0\n  k: 3\n");
  });
  after(async () => {
    await srv.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const servedVersion = async () => {
    const r = await fetch(`${srv.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "assistant", messages: [{ role: "user", content: "hello there" }] }),
    });
    return ((await r.json()) as Json).stratum?.pipeline_version as number;
  };

  test("add, dedup, alias, show; blue-green and rollback reach the server; canary start and promote; errors exit 1", async () => {
    const list = await stratum(["registry", "list", "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), [{ kind: "pipeline", name: "assistant", latest_version: 1, aliases: { config: 1, production: 1 } }]);

    const added = await stratum(["registry", "add", "pipeline", "assistant", "--spec", specFile, "--note", "smaller k", "--json"], env);
    assert.equal(added.code, 0, added.stderr);
    const v2 = JSON.parse(added.stdout);
    assert.equal(v2.version, 2);
    assert.equal(v2.created, true);
    assert.match(v2.created_by, /^cli:/);
    const again = await stratum(["registry", "add", "pipeline", "assistant", "--spec", specFile], env);
    assert.match(again.stdout, /unchanged: already pipeline\/assistant v2/);

    assert.equal((await stratum(["registry", "alias", "pipeline", "assistant", "staging", "2"], env)).code, 0);
    const shown = await stratum(["registry", "show", "pipeline", "assistant"], env);
    assert.match(shown.stdout, /^v1 .*\[config\]\s+\[production\]$/m);
    assert.match(shown.stdout, /^v2 .*parent=1 .*"smaller k"\s+\[staging\]$/m);

    const bg = await stratum(["rollout", "start", "assistant", "--strategy", "blue-green", "--to", "2", "--json"], env);
    assert.equal(bg.code, 0, bg.stderr);
    const rollout = JSON.parse(bg.stdout);
    assert.equal(rollout.status, "promoted");
    await eventually(async () => (await servedVersion()) === 2, 10_000, "the server to serve v2");
    const back = await stratum(["rollout", "rollback", rollout.id, "--reason", "smoke test"], env);
    assert.equal(back.code, 0, back.stderr);
    assert.match(back.stdout, /rolled_back[\s\S]*smoke test/);
    await eventually(async () => (await servedVersion()) === 1, 10_000, "the server to serve v1 again");

    const canary = await stratum(["rollout", "start", "assistant", "--strategy", "canary", "--to", "2", "--steps", "10,50", "--hold-requests", "5", "--json"], env);
    assert.equal(canary.code, 0, canary.stderr);
    const c = JSON.parse(canary.stdout);
    assert.deepEqual(c.steps, [10, 50, 100]);
    const listed = await stratum(["rollout", "list", "--status", "running"], env);
    assert.match(listed.stdout, new RegExp(`${c.id}\\s+assistant\\s+canary\\s+v1 → v2\\s+running\\s+traffic=10%`));
    const promoted = await stratum(["rollout", "promote", c.id, "--json"], env);
    assert.equal(JSON.parse(promoted.stdout).status, "promoted");
    await eventually(async () => (await servedVersion()) === 2, 10_000, "the server to serve v2 after the promotion");

    const bad = await stratum(["rollout", "start", "assistant", "--strategy", "canary", "--to", "9"], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /has no version 9 \(to_version\)/);
    const missing = await stratum(["rollout", "status", "ro_nope"], env);
    assert.equal(missing.code, 1);
  });
});
