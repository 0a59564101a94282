// `stratum ingest <path|url> --collection NAME`: parses, chunks and indexes
// into the configured storage directly (the data dir's SQLite file, or
// PostgreSQL), so it works whether or not a server runs on it (a running
// server answers from the new documents at once: it reads the same store).
import { resolve } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import type { Command } from "commander";
import { createKnowledge } from "../app/knowledge.js";
import { createModelLayer } from "../app/model-layer.js";
import { loadConfig } from "../config/index.js";
import { openStorage } from "../app/storage.js";
import { MemoryJobQueue } from "../jobs/index.js";
import type { IngestReport } from "../ingest/index.js";
import { exitOnConfigError } from "./config-errors.js";

interface IngestOptions {
  collection: string;
  tenant: string;
  metadata: Record<string, string>;
  config?: string;
  json?: boolean;
  progress: boolean;
}

function keyValue(v: string, acc: Record<string, string>): Record<string, string> {
  const at = v.indexOf("=");
  if (at <= 0) throw new Error(`--meta expects key=value, got "${v}"`);
  return { ...acc, [v.slice(0, at)]: v.slice(at + 1) };
}

export function registerIngestCommand(program: Command): void {
  program
    .command("ingest")
    .description("ingest files, a folder (incremental: only changed files are re-processed) or a URL into a collection")
    .argument("<source>", "file, folder or http(s) URL")
    .requiredOption("--collection <name>", "collection to ingest into")
    .option("--tenant <name>", "tenant that owns the collection", "default")
    .option("--meta <key=value>", "metadata for every document (repeatable; usable as search filters)", keyValue, {})
    .option("--no-progress", "no progress bar")
    .option("-c, --config <file>", "config file")
    .option("--json", "print the report as JSON")
    .action(async (source: string, o: Omit<IngestOptions, "metadata"> & { meta: Record<string, string> }) => {
      const { config } = exitOnConfigError(() => loadConfig({ path: o.config }));
      const storage = await openStorage(config);
      const models = exitOnConfigError(() => createModelLayer(config));
      try {
        const k = createKnowledge(config, storage, models.service, new MemoryJobQueue());
        const bar = o.progress && !o.json && process.stderr.isTTY ? new SingleBar({ format: " {bar} {value}/{total} files | {source}", hideCursor: true }, Presets.shades_classic) : undefined;
        let started = false;
        const onProgress = (p: { done: number; total: number; source: string }) => {
          if (bar && !started) {
            bar.start(p.total, 0, { source: "" });
            started = true;
          }
          if (bar) {
            bar.setTotal(p.total);
            bar.update(p.done, { source: p.source });
          } else if (!o.json) process.stderr.write(`  [${p.done}/${p.total}] ${p.source}\n`);
        };
        const opts = { metadata: o.meta, onProgress };
        const report = /^https?:\/\//i.test(source)
          ? await k.ingestor.ingestUrl(o.tenant, o.collection, source, opts)
          : await k.ingestor.ingestPath(o.tenant, o.collection, resolve(source), opts);
        bar?.stop();
        process.stdout.write(o.json ? JSON.stringify(report) + "\n" : formatReport(report));
        if (report.failed > 0) process.exitCode = 1;
      } finally {
        await models.close();
        await storage.close();
      }
    });
}

function formatReport(r: IngestReport): string {
  const lines = [
    `collection ${r.collection}: ${r.added} added, ${r.updated} updated, ${r.unchanged} unchanged, ${r.deleted} deleted, ${r.failed} failed — ${r.chunks} chunks in ${(r.tookMs / 1000).toFixed(2)} s`,
  ];
  for (const f of r.files) if (f.status === "failed") lines.push(`  failed  ${f.source}: ${f.error}`);
  return lines.join("\n") + "\n";
}
