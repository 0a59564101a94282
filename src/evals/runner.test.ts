// The runner over real HTTP: against a real Stratum test server (the built-in
// assistant pipeline, extractive route, over a tiny ingested collection) and
// against a scripted local server (concurrency bound, failures recorded);
// SQLite and in-memory stores; the CLI's regression gate as a child process.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../data/index.js";
import { startTestServer, type TestServer } from "../testing/harness.js";
import { MemoryEvalStore } from "./store.js";
import { SqliteEvalStore } from "./sqlite/eval-store.js";
import { runEval } from "./runner.js";
import { parseDataset, type EvalItem, type EvalRun, type EvalStore } from "./types.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

const DOCS = [
  { source: "relay.md", content: "# The relay\n\nThe relay forwards events from producers to subscribers over WebSockets.\n\n## Network\n\nThe relay listens on port 7443. Clients reconnect with exponential backoff.\n" },
  { source: "billing.md", content: "# Billing\n\nInvoices are issued on the first business day of each month. Payment is due within thirty days.\n" },
  { source: "ingest.md", content: "# Ingestion\n\nThe ingest worker reads files from the inbox folder and listens on port 9090 for health checks.\n" },
];

function datasetText(docIds: Record<string, string>): string {
  const lines = [
    { id: "relay-port", input: "Which port does the relay listen on?", expected: "The relay listens on port 7443.", facts: ["7443"], relevant_ids: [docIds["relay.md"]] },
    { id: "invoices", input: "When are invoices issued?", expected: "Invoices are issued on the first business day of each month.", facts: ["first business day"], relevant_ids: [docIds["billing.md"]] },
    { id: "payment", input: "When is payment due?", expected: "Payment is due within thirty days.", facts: ["thirty days"], relevant_ids: [docIds["billing.md"]] },
    { id: "health", input: "Which port does the ingest worker listen on for health checks?", expected: "The ingest worker listens on port 9090 for health checks.", facts: ["9090"], relevant_ids: [docIds["ingest.md"]] },
    { id: "reconnect", input: "How do clients of the relay reconnect?", expected: "Clients reconnect with exponential backoff.", facts: ["exponential backoff"], relevant_ids: [docIds["relay.md"]], regex: "/backoff/i" },
    { id: "forward", input: "What does the relay forward to subscribers?", expected: "The relay forwards events from producers to subscribers over WebSockets.", facts: ["events"] },
  ];
  return lines.map((l) => JSON.stringify(l)).join("\n") + "\n";
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function stratum(args: string[], env: Record<string, string>): Promise<Run> {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["STRATUM_CONFIG", "STRATUM_DATA_DIR", "STRATUM_API_KEY", "HOST", "PORT"]) delete base[k];
  return new Promise((res) => {
    execFile(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], { cwd: ROOT, env: { ...base, ...env }, timeout: 90_000 }, (err, stdout, stderr) => {
      res({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe("eval runner against a Stratum server", () => {
  let srv: TestServer;
  let tmp: string;
  let items: EvalItem[];
  let datasetFile: string;
  before(async () => {
    srv = await startTestServer({ pipelines: [{ name: "empty", collection: "nothing-here", route: "extractive" }] });
    tmp = mkdtempSync(join(tmpdir(), "stratum-evals-"));
    const docIds: Record<string, string> = {};
    for (const d of DOCS) {
      const r = await fetch(`${srv.url}/v1/collections/docs/documents`, { method: "POST", headers: { authorization: `Bearer ${srv.adminKey}`, "content-type": "application/json" }, body: JSON.stringify(d) });
      assert.equal(r.status, 201);
      const body = (await r.json()) as { files: Array<{ documentId: string }> };
      docIds[d.source] = body.files[0]!.documentId;
    }
    const text = datasetText(docIds);
    datasetFile = join(tmp, "dataset.jsonl");
    // one extra line the pipeline rejects (the last message is not a user message) and one bad line
    writeFileSync(datasetFile, text + JSON.stringify({ id: "bad-turn", messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }], expected: "x" }) + "\n{oops\n");
    const d = parseDataset(text);
    assert.deepEqual(d.errors, []);
    items = d.items;
  });
  after(async () => {
    await srv.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test("the assistant answers from the documents: high scores, citations scored for retrieval and groundedness, usage recorded", async () => {
    const progress: number[] = [];
    const run = await runEval(items, { baseUrl: srv.url, apiKey: srv.adminKey, model: "assistant" }, { concurrency: 3, dataset: "tiny", onProgress: (p) => progress.push(p.done) });
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);
    assert.equal(run.itemCount, 6);
    assert.equal(run.errorCount, 0, JSON.stringify(run.items.filter((i) => i.error)));
    assert.deepEqual(run.items.map((i) => i.id), items.map((i) => i.id), "results keep the dataset order");
    const relay = run.items[0]!;
    assert.match(relay.output, /7443/);
    assert.equal(typeof relay.metrics.exact_match, "number");
    assert.ok(relay.metrics.token_f1! >= 0.4 - 1e-9, relay.output);
    assert.equal(relay.metrics.contains, 1);
    assert.equal(relay.metrics.recall_at_k, 1);
    assert.equal(relay.metrics.mrr, 1);
    assert.equal(relay.metrics.groundedness, 1);
    assert.ok(relay.usage && relay.usage.total_tokens > 0);
    assert.ok(relay.latencyMs > 0);
    assert.equal(run.summary.contains!.mean, 1);
    assert.ok(run.summary.token_f1!.mean > 0.5, JSON.stringify(run.summary));
    assert.ok(run.summary.exact_match!.mean > 0, JSON.stringify(run.summary));
    assert.equal(run.summary.recall_at_k!.n, 5);
    assert.equal(run.summary.regex!.mean, 1);
    assert.equal(run.summary.error!.mean, 0);
  });

  test("a pipeline over an empty collection scores low; failing items are recorded, never abort the run", async () => {
    const bad: EvalItem = { id: "bad-turn", messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] as EvalItem["messages"], expected: "x" };
    const run = await runEval([...items, bad], { baseUrl: srv.url, apiKey: srv.adminKey, model: "empty" }, { concurrency: 2 });
    assert.equal(run.itemCount, 7);
    assert.equal(run.errorCount, 1);
    assert.match(run.items[6]!.error!, /^HTTP 400/);
    assert.equal(run.items[6]!.metrics.error, 1);
    assert.match(run.items[0]!.output, /do not answer/);
    assert.equal(run.summary.exact_match!.mean, 0);
    assert.equal(run.summary.recall_at_k!.mean, 0);
    assert.equal(run.summary.groundedness, undefined, "nothing cited");
    // a wrong key and an unknown model fail every item, still a complete run
    const unauth = await runEval(items.slice(0, 2), { baseUrl: srv.url, apiKey: "sk-wrong", model: "assistant" });
    assert.equal(unauth.errorCount, 2);
    assert.match(unauth.items[0]!.error!, /^HTTP 401/);
    const unknown = await runEval(items.slice(0, 1), { baseUrl: srv.url, apiKey: srv.adminKey, model: "assistant@9" });
    assert.match(unknown.items[0]!.error!, /^HTTP 404/);
  });

  test("the CLI gate: assistant vs itself passes; vs a pipeline without documents fails (exit 1); runs are stored and listed", async () => {
    const dataDir = join(tmp, "data");
    const env = { STRATUM_DATA_DIR: dataDir, STRATUM_API_KEY: srv.adminKey };
    const gate = "exact_match:-0.02,token_f1:-0.02";
    const same = await stratum(["eval", "run", "--dataset", datasetFile, "--pipeline", "assistant", "--compare", "assistant", "--url", srv.url, "--gate", gate], env);
    assert.equal(same.code, 0, same.stderr + same.stdout);
    assert.match(same.stdout, /gate: passed/);
    assert.match(same.stderr, /dataset\.jsonl:8: skipped: invalid JSON/);
    assert.match(same.stderr, /assistant: 1\/7 items failed \(first: bad-turn: HTTP 400/);

    const jsonOut = join(tmp, "report.json");
    const htmlOut = join(tmp, "report.html");
    const regress = await stratum(["eval", "run", "--dataset", datasetFile, "--pipeline", "assistant", "--compare", "empty", "--url", srv.url, "--concurrency", "2", "--gate", gate, "--json", jsonOut, "--html", htmlOut], env);
    assert.equal(regress.code, 1, regress.stderr + regress.stdout);
    assert.match(regress.stdout, /gate: FAILED/);
    assert.match(regress.stdout, /FAIL exact_match/);
    assert.match(regress.stdout, /FAIL token_f1/);
    const report = JSON.parse(readFileSync(jsonOut, "utf8"));
    assert.equal(report.gate.passed, false);
    assert.deepEqual(report.runs.map((r: EvalRun) => r.model), ["assistant", "empty"]);
    const em = report.metrics.find((m: { metric: string }) => m.metric === "exact_match");
    assert.ok(em.diff.high < -0.02 && em.diff.n === 7);
    assert.ok(existsSync(htmlOut));
    assert.match(readFileSync(htmlOut, "utf8"), /<svg /);

    const list = await stratum(["eval", "list", "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    const runs = JSON.parse(list.stdout) as EvalRun[];
    assert.equal(runs.length, 4);
    assert.deepEqual(runs.map((r) => r.model).sort(), ["assistant", "assistant", "assistant", "empty"]);
    const text = await stratum(["eval", "list"], env);
    assert.match(text.stdout, /exact_match/);
    const [b, a] = [runs[0]!, runs[1]!];
    const show = await stratum(["eval", "show", a.id, b.id, "--gate", gate], env);
    assert.equal(show.code, b.model === "empty" ? 1 : 0, show.stderr + show.stdout);

    const noCompare = await stratum(["eval", "run", "--dataset", datasetFile, "--pipeline", "assistant", "--url", srv.url, "--gate", gate], env);
    assert.notEqual(noCompare.code, 0);
    assert.match(noCompare.stderr, /--gate needs --compare/);
  });
});

describe("eval runner against a scripted server", () => {
  let server: Server;
  let url: string;
  let inFlight = 0;
  let maxInFlight = 0;
  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const msg = JSON.parse(body).messages.at(-1).content as string;
        setTimeout(() => {
          inFlight--;
          if (msg === "fail") {
            res.writeHead(500, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "boom" } }));
          } else if (msg === "garbage") {
            res.writeHead(200, { "content-type": "text/plain" }).end("not json");
          } else if (msg === "slow") {
            setTimeout(() => res.writeHead(200).end("{}"), 500);
          } else {
            res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ message: { role: "assistant", content: msg.toUpperCase() } }], usage: { prompt_tokens: 1000, completion_tokens: 100, total_tokens: 1100 } }));
          }
        }, 20);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const addr = server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test("bounded concurrency, errors recorded (HTTP 500, malformed body, timeout, connection refused), cost from a price table", async () => {
    const mk = (id: string, input: string): EvalItem => ({ id, messages: [{ role: "user", content: input }] as EvalItem["messages"], expected: input });
    const items = [...Array.from({ length: 10 }, (_, i) => mk(`ok${i}`, `answer ${i}`)), mk("f", "fail"), mk("g", "garbage"), mk("s", "slow")];
    maxInFlight = 0;
    const run = await runEval(items, { baseUrl: url + "/", model: "m@2" }, { concurrency: 3, timeoutMs: 300, prices: { m: { input: 1, output: 10 } } });
    assert.equal(maxInFlight, 3);
    assert.equal(run.errorCount, 3);
    assert.equal(run.items[0]!.metrics.exact_match, 1, "case-insensitive");
    assert.ok(Math.abs(run.items[0]!.metrics.cost_usd! - 0.002) < 1e-12);
    assert.match(run.items[10]!.error!, /HTTP 500: boom/);
    assert.match(run.items[11]!.error!, /malformed response/);
    assert.match(run.items[12]!.error!, /timeout after 300 ms/);
    assert.equal(run.summary.exact_match!.mean, 10 / 13);
    const refused = await runEval(items.slice(0, 2), { baseUrl: "http://127.0.0.1:1", model: "m" });
    assert.equal(refused.errorCount, 2);
    assert.ok(refused.items[0]!.error);
  });
});

async function storeContract(store: EvalStore): Promise<void> {
  const mk = (id: string, createdAt: number): EvalRun => ({
    id,
    createdAt,
    model: "assistant",
    baseUrl: "http://x",
    dataset: "d.jsonl",
    itemCount: 1,
    errorCount: 0,
    durationMs: 5,
    summary: { exact_match: { mean: 1, n: 1 } },
    items: [{ id: "q1", input: "q", expected: "a", output: "a", metrics: { exact_match: 1 }, latencyMs: 3, usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 }, tags: ["t"] }],
  });
  assert.deepEqual(await store.list(), []);
  assert.equal(await store.get("nope"), undefined);
  await store.save(mk("r1", 1000));
  await store.save(mk("r2", 2000));
  const list = await store.list();
  assert.deepEqual(list.map((r) => r.id), ["r2", "r1"]);
  assert.equal((list[0] as Partial<EvalRun>).items, undefined, "list omits items");
  assert.deepEqual(list[0]!.summary, { exact_match: { mean: 1, n: 1 } });
  assert.deepEqual(await store.get("r1"), mk("r1", 1000));
  const replaced = { ...mk("r1", 1000), errorCount: 1 };
  await store.save(replaced);
  assert.deepEqual(await store.get("r1"), replaced);
  assert.equal((await store.list()).length, 2);
}

describe("eval stores", () => {
  test("MemoryEvalStore", async () => {
    await storeContract(new MemoryEvalStore());
  });

  test("SqliteEvalStore: contract; idempotent schema; shares the data dir's database", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratum-evalstore-"));
    try {
      const file = join(dir, "stratum.db");
      const s1 = new SqliteEvalStore(file);
      await storeContract(s1);
      s1.close();
      const db = openDatabase(file); // data migrations and the eval schema coexist
      const s2 = new SqliteEvalStore(db);
      assert.equal((await s2.list()).length, 2);
      assert.equal((await s2.get("r2"))!.items[0]!.id, "q1");
      s2.close(); // a shared handle stays open
      assert.ok(db.open);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
