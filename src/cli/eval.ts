// `stratum eval run|list|show`: offline evaluation of a pipeline or model
// served by Stratum over HTTP, stored where `storage:` says (the data dir's
// SQLite file, or PostgreSQL), with
// terminal / JSON / HTML reports, a paired comparison and a regression gate.
import { readFileSync, writeFileSync } from "node:fs";
import { SingleBar, Presets } from "cli-progress";
import type { Command } from "commander";
import { loadStateConfig } from "../config/index.js";
import {
  buildReport,
  evaluateGate,
  formatHtml,
  formatJson,
  formatTable,
  fmtNum,
  loadDataset,
  parseGate,
  runEval,
  type EvalRun,
  type EvalStore,
  type PriceTable,
} from "../evals/index.js";
import { openStorage } from "../app/storage.js";
import { exitOnConfigError } from "./config-errors.js";

interface RunCliOptions {
  dataset: string;
  pipeline: string;
  compare?: string;
  url: string;
  key?: string;
  concurrency: string;
  timeout: string;
  gate?: string;
  json?: string;
  html?: string;
  prices?: string;
  k: string;
  save: boolean;
  progress: boolean;
  config?: string;
}

/** The eval store of the configured storage; `close` releases the storage. */
async function openStore(configPath?: string): Promise<EvalStore & { close(): Promise<void> }> {
  const config = exitOnConfigError(() => loadStateConfig({ path: configPath }));
  const storage = await openStorage(config);
  const store = storage.evals;
  return { save: (r) => store.save(r), list: () => store.list(), get: (id) => store.get(id), close: () => storage.close() };
}

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} expects a positive integer, got "${v}"`);
  return n;
}

/** Report on runs (the second compared to the first): table, files, gate → exit code. */
function report(runs: EvalRun[], gate: ReturnType<typeof parseGate> | undefined, o: { json?: string; html?: string }): void {
  const r = buildReport(runs);
  if (gate) r.gate = evaluateGate(r, gate);
  process.stdout.write(formatTable(r));
  if (o.json) writeFileSync(o.json, formatJson(r));
  if (o.html) writeFileSync(o.html, formatHtml(r));
  if (r.gate && !r.gate.passed) process.exitCode = 1;
}

export function registerEvalCommand(program: Command): void {
  const ev = program.command("eval").description("evaluate pipelines and models on a JSONL dataset; compare runs; gate regressions");

  ev.command("run")
    .description("run a dataset against a pipeline (or model) served by Stratum; with --compare, against a second one too")
    .requiredOption("--dataset <file>", "JSONL dataset: {id?, input | messages, expected?, facts?, relevant_ids?, tags?, regex?, json?} per line")
    .requiredOption("--pipeline <name>", "pipeline or model alias to evaluate (name@version is passed through)")
    .option("--compare <name>", "a second pipeline or model, compared with the first on the same items")
    .option("--url <url>", "Stratum base URL", "http://127.0.0.1:8787")
    .option("--key <key>", "API key (default: $STRATUM_API_KEY)")
    .option("--concurrency <n>", "parallel requests", "4")
    .option("--timeout <ms>", "per-request timeout", "60000")
    .option("--gate <rules>", 'fail (exit 1) when, second vs first, a metric drops below a threshold with confidence: "exact_match:-0.02,token_f1:-0.02"')
    .option("--json <file>", "write the JSON report")
    .option("--html <file>", "write the HTML report")
    .option("--prices <file>", 'JSON price table for cost_usd: {"model": {"input": USD/Mtok, "output": USD/Mtok}, "*": ...}')
    .option("--k <n>", "k for recall@k and nDCG@k", "5")
    .option("--no-save", "do not store the runs in the data dir")
    .option("--no-progress", "no progress bar")
    .option("-c, --config <file>", "config file (for the storage: data dir or PostgreSQL)")
    .action(async (o: RunCliOptions) => {
      const gate = o.gate ? parseGate(o.gate) : undefined;
      if (gate && !o.compare) throw new Error("--gate needs --compare (it compares the second run to the first)");
      const concurrency = positiveInt("--concurrency", o.concurrency);
      const timeoutMs = positiveInt("--timeout", o.timeout);
      const k = positiveInt("--k", o.k);
      const prices = o.prices ? (JSON.parse(readFileSync(o.prices, "utf8")) as PriceTable) : undefined;
      const dataset = loadDataset(o.dataset);
      for (const e of dataset.errors) process.stderr.write(`${o.dataset}:${e.line}: skipped: ${e.message}\n`);
      if (dataset.items.length === 0) throw new Error(`${o.dataset}: no valid items`);
      const apiKey = o.key ?? process.env.STRATUM_API_KEY;
      const store = o.save ? await openStore(o.config) : undefined;
      try {
        const runs: EvalRun[] = [];
        for (const model of [o.pipeline, ...(o.compare ? [o.compare] : [])]) {
          const bar = o.progress && process.stderr.isTTY ? new SingleBar({ format: ` ${model} {bar} {value}/{total} items | {errors} errors`, hideCursor: true, stream: process.stderr }, Presets.shades_classic) : undefined;
          bar?.start(dataset.items.length, 0, { errors: 0 });
          const run = await runEval(dataset.items, { baseUrl: o.url, model, ...(apiKey ? { apiKey } : {}) }, {
            concurrency,
            timeoutMs,
            k,
            dataset: o.dataset,
            ...(prices ? { prices } : {}),
            onProgress: (p) => bar?.update(p.done, { errors: p.errors }),
          });
          bar?.stop();
          if (run.errorCount > 0) {
            const first = run.items.find((i) => i.error);
            process.stderr.write(`${model}: ${run.errorCount}/${run.itemCount} items failed (first: ${first?.id}: ${first?.error})\n`);
          }
          await store?.save(run);
          runs.push(run);
        }
        report(runs, gate, o);
      } finally {
        await store?.close();
      }
    });

  ev.command("list")
    .description("list the stored runs, newest first")
    .option("--json", "print JSON")
    .option("-c, --config <file>", "config file (for the storage: data dir or PostgreSQL)")
    .action(async (o: { json?: boolean; config?: string }) => {
      const store = await openStore(o.config);
      try {
        const runs = await store.list();
        if (o.json) {
          process.stdout.write(JSON.stringify(runs) + "\n");
          return;
        }
        if (runs.length === 0) {
          process.stdout.write("no eval runs\n");
          return;
        }
        const rows = runs.map((r) => [r.id, new Date(r.createdAt).toISOString().replace(/\.\d+Z$/, "Z"), r.model, String(r.itemCount), String(r.errorCount), fmtNum(r.summary.exact_match?.mean ?? NaN), fmtNum(r.summary.token_f1?.mean ?? NaN), r.dataset]);
        const head = ["id", "created", "model", "items", "errors", "exact_match", "token_f1", "dataset"];
        const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        const line = (c: string[]) => c.map((x, i) => x.padEnd(w[i]!)).join("  ").trimEnd();
        process.stdout.write([line(head), ...rows.map(line)].join("\n") + "\n");
      } finally {
        await store.close();
      }
    });

  ev.command("show")
    .description("report on a stored run, or compare two (second vs first)")
    .argument("<id>", "run id")
    .argument("[id2]", "a second run id to compare with")
    .option("--gate <rules>", "as for eval run (needs two ids)")
    .option("--json <file>", "write the JSON report")
    .option("--html <file>", "write the HTML report")
    .option("-c, --config <file>", "config file (for the storage: data dir or PostgreSQL)")
    .action(async (id: string, id2: string | undefined, o: { gate?: string; json?: string; html?: string; config?: string }) => {
      const gate = o.gate ? parseGate(o.gate) : undefined;
      if (gate && !id2) throw new Error("--gate needs two run ids");
      const store = await openStore(o.config);
      try {
        const runs: EvalRun[] = [];
        for (const x of [id, ...(id2 ? [id2] : [])]) {
          const r = await store.get(x);
          if (!r) throw new Error(`no eval run "${x}" (see stratum eval list)`);
          runs.push(r);
        }
        report(runs, gate, o);
      } finally {
        await store.close();
      }
    });
}
