// `stratum eval run|list|show` with storage: postgres: runs go to (and are read
// from) PostgreSQL, selected by the config like every other store.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../../testing/harness.js";
import { createTestSchema, postgresTestsEnabled, TEST_POSTGRES_URL, type PgTestSchema } from "../../testing/postgres.js";
import { PgEvalStore } from "./eval-store.js";

const ROOT = new URL("../../..", import.meta.url).pathname;

function stratum(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["STRATUM_CONFIG", "STRATUM_DATA_DIR", "STRATUM_API_KEY", "HOST", "PORT"]) delete base[k];
  return new Promise((res) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("stratum eval with storage: postgres", { skip: !postgresTestsEnabled && "STRATUM_SKIP_POSTGRES=1" }, () => {
  let srv: TestServer;
  let pg: PgTestSchema;
  let tmp: string;
  let configFile: string;
  let env: Record<string, string>;
  before(async () => {
    srv = await startTestServer({});
    const r = await fetch(`${srv.url}/v1/collections/docs/documents`, {
      method: "POST",
      headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" },
      body: JSON.stringify({ source: "relay.md", content: "# Relay\n\nThe relay listens on port 7443." }),
    });
    assert.equal(r.status, 201);
    pg = await createTestSchema({ migrate: false, prefix: "stratum_evals" });
    tmp = mkdtempSync(join(tmpdir(), "stratum-evals-pg-"));
    configFile = join(tmp, "stratum.config.json");
    writeFileSync(configFile, JSON.stringify({ storage: "postgres", postgres: { url: "${STRATUM_EVALS_PG}", schema: pg.schema } }));
    writeFileSync(join(tmp, "qa.jsonl"), JSON.stringify({ id: "port", input: "Which port does the relay listen on?", expected: "The relay listens on port 7443.", facts: ["7443"] }) + "\n");
    env = { STRATUM_EVALS_PG: TEST_POSTGRES_URL, STRATUM_API_KEY: srv.adminKey, STRATUM_DATA_DIR: join(tmp, "data") };
  });
  after(async () => {
    await srv?.close();
    await pg?.drop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test("run stores in PostgreSQL; list and show read it back", async () => {
    const run = await stratum(["eval", "run", "--dataset", join(tmp, "qa.jsonl"), "--pipeline", "assistant", "--url", srv.url, "--no-progress", "--config", configFile], env);
    assert.equal(run.code, 0, run.stderr);
    const stored = await new PgEvalStore(pg.pool).list();
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.model, "assistant");
    assert.equal(stored[0]!.itemCount, 1);
    const full = await new PgEvalStore(pg.pool).get(stored[0]!.id);
    assert.match(full!.items[0]!.output, /7443/);

    const list = await stratum(["eval", "list", "--json", "--config", configFile], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual((JSON.parse(list.stdout) as Array<{ id: string }>).map((r) => r.id), [stored[0]!.id]);
    const show = await stratum(["eval", "show", stored[0]!.id, "--config", configFile], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /assistant/);
    const missing = await stratum(["eval", "show", "nope", "--config", configFile], env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no eval run "nope"/);
  });
});
