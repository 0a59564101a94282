// The real `stratum` CLI as a child process: `keys create|list|revoke` on a
// data dir (also while a server is running on it), and `serve` refusing bad
// config with exit code 2 and the offending field named.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventually, postJson, startTestServer, type TestServer } from "../testing/harness.js";

/** Parsed JSON bodies, checked by the assertions rather than by types. */
type Json = any;

const ROOT = new URL("../..", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

// Each CLI process costs a second or two of CPU to start (tsx + the whole
// app). At most two run at once, so this file never starves the test files
// running beside it (or their own child processes) of CPU.
const MAX_CHILDREN = 2;
let running = 0;
const waiting: Array<() => void> = [];
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running < MAX_CHILDREN) running++;
  else await new Promise<void>((r) => waiting.push(r)); // a finishing run hands its slot over
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** Run `stratum ...args` from the repo root with a clean, controlled environment. */
function stratum(args: string[], env: Record<string, string>): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["STRATUM_CONFIG", "STRATUM_DATA_DIR", "STRATUM_API_KEY", "HOST", "PORT"]) delete base[k];
  return withSlot(
    () =>
      new Promise<Run>((resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", "src/cli/main.ts", ...args],
          { cwd: ROOT, env: { ...base, PORT: "0", ...env }, timeout: 60_000 },
          (err, stdout, stderr) => {
            const code = err ? (typeof err.code === "number" ? err.code : -1) : 0;
            resolve({ code, stdout, stderr: err?.killed ? `${stderr}\n(killed after 60 s)` : stderr });
          },
        );
      }),
  );
}

// The groups are independent (own data dirs): run them side by side.
describe("stratum CLI", { concurrency: true }, () => {
  describe("stratum keys on the data dir of a running server", () => {
    let dataDir: string;
    let env: Record<string, string>;
    let srv: TestServer;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "stratum-cli-"));
      env = { STRATUM_DATA_DIR: dataDir };
      srv = await startTestServer({}, { dataDir });
    });
    after(async () => {
      await srv.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test("create --json prints a key that works at once; list --json hides key and hash; revoke stops it within the cache TTL", async () => {
      const created = await stratum(["keys", "create", "--tenant", "acme", "--name", "ci", "--rpm", "5", "--monthly-budget", "12.5", "--json"], env);
      assert.equal(created.code, 0, created.stderr);
      const rec = JSON.parse(created.stdout) as Json;
      assert.match(rec.key, /^sk-stratum-[A-Za-z0-9_-]{20,}$/);
      assert.match(rec.id, /^key_/);
      assert.equal(rec.tenant, "acme");
      assert.equal(rec.name, "ci");
      assert.equal(rec.role, "user");
      assert.equal(rec.limits.requestsPerMinute, 5);
      assert.equal(rec.limits.monthlyBudgetUsd, 12.5);

      // The running server accepts the key immediately, with the limits set by the CLI.
      const body = { model: "sim", messages: [{ role: "user", content: "hi" }] };
      const call = () => postJson(`${srv.url}/v1/chat/completions`, body, { authorization: `Bearer ${rec.key}` });
      const [ok, listed] = await Promise.all([call(), stratum(["keys", "list", "--json"], env)]);
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.headers.get("x-ratelimit-limit-requests"), "5");

      assert.equal(listed.code, 0, listed.stderr);
      const mine = (JSON.parse(listed.stdout) as Json[]).find((k) => k.id === rec.id);
      assert.ok(mine, "listed");
      assert.equal(mine.tenant, "acme");
      assert.equal(mine.key, undefined);
      assert.equal(mine.hash, undefined);
      assert.ok(!listed.stdout.includes(rec.key), "the key is never listed");
      assert.ok(!listed.stdout.includes(createHash("sha256").update(rec.key).digest("hex")), "nor its hash");
      // The text listing shows the key's own limits and budgets.
      const text = await stratum(["keys", "list", "--tenant", "acme"], env);
      assert.match(text.stdout, new RegExp(`${rec.id} .* tenant=acme .* rpm=5 budget/month=\\$12\\.5  active`));

      const revoked = await stratum(["keys", "revoke", rec.id], env);
      assert.equal(revoked.code, 0, revoked.stderr);
      assert.match(revoked.stdout, new RegExp(`revoked ${rec.id}`));
      // The server caches keys for 2 s: the revocation (from another process) lands within ~3 s.
      await eventually(async () => (await call()).status === 401, 3500, "the revoked key to be rejected");
    });
  });

  describe("stratum ingest on the data dir of a running server", () => {
    let dataDir: string;
    let folder: string;
    let env: Record<string, string>;
    let srv: TestServer;
    before(async () => {
      dataDir = mkdtempSync(join(tmpdir(), "stratum-cli-ingest-"));
      folder = mkdtempSync(join(tmpdir(), "stratum-cli-docs-"));
      env = { STRATUM_DATA_DIR: dataDir };
      writeFileSync(join(folder, "relay.md"), "# Relay\n\nThe relay listens on port 7443.\n");
      writeFileSync(join(folder, "billing.txt"), "Invoices go out on the first business day of the month.\n");
      writeFileSync(join(folder, "broken.pdf"), "%PDF-1.4 this is not a pdf");
      srv = await startTestServer({}, { dataDir });
    });
    after(async () => {
      await srv.close();
      rmSync(dataDir, { recursive: true, force: true });
      rmSync(folder, { recursive: true, force: true });
    });

    const search = (query: string) =>
      postJson(`${srv.url}/v1/collections/notes/search`, { query, k: 3, mode: "lexical" }, { authorization: `Bearer ${srv.adminKey}` });

    test("ingests a folder (one bad file reported, exit 1), the server answers at once, re-ingest is incremental", async () => {
      const first = await stratum(["ingest", folder, "--collection", "notes", "--meta", "team=ops", "--json"], env);
      assert.equal(first.code, 1, "a failed file makes the exit code non-zero");
      const r1 = JSON.parse(first.stdout) as Json;
      assert.equal(r1.added, 2);
      assert.equal(r1.failed, 1);
      assert.match(r1.files.find((f: Json) => f.status === "failed").error, /broken\.pdf/);

      // The running server sees the new documents without a restart.
      const hit = await search("which port does the relay listen on");
      assert.equal(hit.status, 200, hit.text);
      assert.match(hit.json.data[0].text, /7443/);
      assert.equal(hit.json.data[0].metadata.team, "ops");
      const answer = await postJson(`${srv.url}/v1/chat/completions`, { model: "assistant", messages: [{ role: "user", content: "Which port does the relay listen on?" }], stratum: {} }, { authorization: `Bearer ${srv.adminKey}` });
      assert.equal(answer.status, 200);

      // Change one file, delete one, add one: only those are processed.
      writeFileSync(join(folder, "relay.md"), "# Relay\n\nThe relay now listens on port 8443.\n");
      rmSync(join(folder, "billing.txt"));
      rmSync(join(folder, "broken.pdf"));
      writeFileSync(join(folder, "faq.md"), "# FAQ\n\nRefunds take fourteen days.\n");
      const second = await stratum(["ingest", folder, "--collection", "notes", "--json"], env);
      assert.equal(second.code, 0, second.stderr);
      const r2 = JSON.parse(second.stdout) as Json;
      assert.deepEqual([r2.added, r2.updated, r2.unchanged, r2.deleted, r2.failed], [1, 1, 0, 1, 0]);
      const third = await stratum(["ingest", folder, "--collection", "notes"], env);
      assert.equal(third.code, 0, third.stderr);
      assert.match(third.stdout, /0 added, 0 updated, 2 unchanged, 0 deleted, 0 failed/);
      assert.match((await search("relay port")).json.data[0].text, /8443/);
      assert.equal((await search("invoices")).json.data.length, 0, "the deleted file's chunks are gone");
    });
  });

  describe("stratum keys usage errors", () => {
    let dataDir: string;
    before(() => {
      dataDir = mkdtempSync(join(tmpdir(), "stratum-cli-err-"));
    });
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    test("unknown id, missing --tenant, invalid --rpm or --monthly-budget: non-zero exit and a clear message", async () => {
      const env = { STRATUM_DATA_DIR: dataDir };
      const [unknown, noTenant, badRpm, badBudget] = await Promise.all([
        stratum(["keys", "revoke", "key_nope"], env),
        stratum(["keys", "create", "--json"], env),
        stratum(["keys", "create", "--tenant", "acme", "--rpm", "abc", "--json"], env),
        stratum(["keys", "create", "--tenant", "acme", "--monthly-budget", "-3", "--json"], env),
      ]);
      assert.notEqual(unknown.code, 0);
      assert.match(unknown.stderr, /no active key with id key_nope/);
      assert.equal(unknown.stdout, "");

      assert.notEqual(noTenant.code, 0);
      assert.match(noTenant.stderr, /--tenant/);
      assert.equal(noTenant.stdout, "", "no key was printed");

      assert.notEqual(badRpm.code, 0);
      assert.match(badRpm.stderr, /--rpm/);
      assert.match(badRpm.stderr, /abc/);
      assert.equal(badRpm.stdout, "", "no key was created");

      assert.notEqual(badBudget.code, 0);
      assert.match(badBudget.stderr, /--monthly-budget must be a non-negative number, got "-3"/);
      assert.equal(badBudget.stdout, "");
    });
  });

  describe("stratum serve with bad config", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "stratum-cli-cfg-"));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    test("exits 2 naming the bad field, the missing variable, or refusing a literal secret", async () => {
      // Every problem in a file is reported at once, so one file covers both secret cases.
      const provider = join(dir, "provider.yaml");
      const secrets = join(dir, "secrets.yaml");
      const model = join(dir, "model.yaml");
      writeFileSync(provider, "models:\n  - name: x\n    deployments:\n      - provider: nope\n");
      writeFileSync(secrets, "providers:\n  a:\n    type: openai\n    apiKey: ${STRATUM_TEST_MISSING_ENV_VAR}\n  b:\n    type: openai\n    apiKey: sk-123\n");
      // Checked when the server is built, not by the schema: a gguf provider whose model file is missing.
      writeFileSync(model, `providers:\n  local: { type: gguf, modelPath: ${join(dir, "missing.gguf")} }\n`);
      const env = { STRATUM_DATA_DIR: join(dir, "data") };
      const [bad, sec, gguf] = await Promise.all([
        stratum(["serve", "--config", provider], env),
        stratum(["serve", "--config", secrets], env),
        stratum(["serve", "--config", model], env),
      ]);

      assert.equal(bad.code, 2, bad.stderr);
      assert.ok(bad.stderr.includes("models[0].deployments[0].provider"), bad.stderr);
      assert.match(bad.stderr, /nope/);

      assert.equal(sec.code, 2, sec.stderr);
      assert.match(sec.stderr, /providers\.a\.apiKey: .*STRATUM_TEST_MISSING_ENV_VAR/);
      assert.match(sec.stderr, /providers\.b\.apiKey: .*env/, "a literal secret is refused, pointing at env references");
      assert.ok(!sec.stderr.includes("sk-123"), "the literal secret is not echoed");
      assert.equal(gguf.code, 2, gguf.stderr);
      assert.match(gguf.stderr, /providers\.local\.modelPath: no file at .*missing\.gguf/);
      for (const r of [bad, sec, gguf]) assert.doesNotMatch(r.stderr, /listening/);
    });
  });
});
