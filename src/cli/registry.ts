// `stratum registry list|show|add|alias|link` and `stratum rollout
// start|status|list|promote|rollback`, directly on the configured storage (the
// data dir's SQLite file, or PostgreSQL). A running server sees the changes
// within a second or so (its cached view of aliases and rollouts expires).
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { Command } from "commander";
import { lazyModule } from "../core/lazy-module.js";
import { openStorage } from "../app/storage.js";
import { loadStateConfig } from "../config/index.js";
import { isStratumError } from "../core/errors.js";
import { kindOf, versionParam, versionView } from "../gateway/routes/registry.js";
import { rolloutView } from "../gateway/routes/rollouts.js";
import { createLogger } from "../ops/index.js";
import { RegistryService } from "../registry/index.js";
import { RolloutService, type Rollout, type RolloutStatus, type RolloutStrategy, type Thresholds } from "../rollouts/index.js";
import { exitOnConfigError } from "./config-errors.js";

interface Common {
  config?: string;
  json?: boolean;
}

const yaml = lazyModule<typeof import("yaml")>("yaml");

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli:user";
  }
}

/** Opens the storage, runs `fn` with the services, closes; errors print and set exit code 1. */
async function withServices(o: Common, fn: (s: { registry: RegistryService; rollouts: RolloutService }) => Promise<void>): Promise<void> {
  const config = exitOnConfigError(() => loadStateConfig({ path: o.config }));
  const storage = await openStorage(config);
  try {
    const registry = new RegistryService(storage.registry);
    await fn({ registry, rollouts: new RolloutService(registry, storage.rollouts, createLogger("silent")) });
  } catch (e) {
    if (!isStratumError(e)) throw e;
    process.stderr.write(`stratum: ${e.message}${e.param ? ` (${e.param})` : ""}\n`);
    process.exitCode = 1;
  } finally {
    await storage.close();
  }
}

const print = (o: Common, value: unknown, text: string) => process.stdout.write(o.json ? `${JSON.stringify(value, null, 2)}\n` : text);

function readSpec(file: string): unknown {
  const raw = readFileSync(file, "utf8");
  return file.endsWith(".json") ? JSON.parse(raw) : yaml().parse(raw);
}

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} expects a number, got "${v}"`);
  return n;
}

function rolloutLine(r: Awaited<ReturnType<typeof rolloutView>>): string {
  const s = r.stats;
  return `${r.id}  ${r.pipeline}  ${r.strategy}  v${r.from_version} → v${r.to_version}  ${r.status}  traffic=${r.traffic_percent}%  baseline=${s.baseline.requests} req/${(s.baseline.error_rate * 100).toFixed(1)}% err  candidate=${s.candidate.requests} req/${(s.candidate.error_rate * 100).toFixed(1)}% err\n`;
}

function rolloutText(r: Awaited<ReturnType<typeof rolloutView>>): string {
  return rolloutLine(r) + r.log.map((l) => `  ${new Date(l.at).toISOString()}  ${l.event}: ${l.message}\n`).join("");
}

function registerRegistry(program: Command): void {
  const reg = program.command("registry").description("versioned pipeline configs, prompt templates and model routes, with aliases");
  reg
    .command("list")
    .description("entries with their latest version and aliases")
    .option("--kind <kind>", "pipeline | prompt | route")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (o: Common & { kind?: string }) => {
      await withServices(o, async ({ registry }) => {
        const entries = await registry.store.list(o.kind ? kindOf(o.kind) : undefined);
        const view = entries.map((e) => ({ kind: e.kind, name: e.name, latest_version: e.latestVersion, aliases: e.aliases }));
        print(o, view, view.map((e) => `${e.kind}/${e.name}  latest=v${e.latest_version}  ${Object.entries(e.aliases).map(([a, v]) => `${a}=v${v}`).join(" ")}\n`).join(""));
      });
    });
  reg
    .command("show <kind> <name>")
    .description("every version of an entry (hash, parent, author, eval runs) and its aliases")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (kind: string, name: string, o: Common) => {
      await withServices(o, async ({ registry }) => {
        const k = kindOf(kind);
        const versions = (await registry.store.versions(k, name)).map(versionView);
        if (!versions.length) {
          process.stderr.write(`stratum: no ${k} "${name}" in the registry\n`);
          process.exitCode = 1;
          return;
        }
        const aliases = await registry.store.aliases(k, name);
        const text = versions
          .map((v) => `v${v.version}  ${v.hash.slice(0, 12)}  parent=${v.parent_version ?? "-"}  by=${v.created_by}  ${new Date(v.created_at).toISOString()}${v.note ? `  "${v.note}"` : ""}${v.eval_runs.length ? `  evals=${v.eval_runs.join(",")}` : ""}${Object.entries(aliases).filter(([, n]) => n === v.version).map(([a]) => `  [${a}]`).join("")}\n`)
          .join("");
        print(o, { kind: k, name, aliases, versions }, text);
      });
    });
  reg
    .command("add <kind> <name>")
    .description("add a version from a JSON or YAML spec file (the same content twice gives the existing version)")
    .requiredOption("--spec <file>", "spec file (.json, or YAML)")
    .option("--parent <version>", "parent version (default: the latest)")
    .option("--note <text>", "what changed")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (kind: string, name: string, o: Common & { spec: string; parent?: string; note?: string }) => {
      await withServices(o, async ({ registry }) => {
        const out = await registry.addVersion(kindOf(kind), name, {
          spec: readSpec(o.spec),
          createdBy: actor(),
          ...(o.parent !== undefined ? { parentVersion: versionParam(o.parent, "parent") } : {}),
          ...(o.note !== undefined ? { note: o.note } : {}),
        });
        const v = versionView(out.version);
        print(o, { ...v, created: out.created }, `${out.created ? "added" : "unchanged: already"} ${v.kind}/${v.name} v${v.version} (${v.hash.slice(0, 12)})\n`);
      });
    });
  reg
    .command("alias <kind> <name> <alias> <version>")
    .description("point an alias at a version (atomically)")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (kind: string, name: string, alias: string, version: string, o: Common) => {
      await withServices(o, async ({ registry }) => {
        const moved = await registry.setAlias(kindOf(kind), name, alias, versionParam(version));
        print(o, moved.aliases, `${alias} → v${version}${moved.previous !== undefined ? ` (was v${moved.previous})` : ""}\n`);
      });
    });
  reg
    .command("link <kind> <name> <version> <run-id>")
    .description("link an eval run (stratum eval run) to a version")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (kind: string, name: string, version: string, runId: string, o: Common) => {
      await withServices(o, async ({ registry }) => {
        const v = versionView(await registry.linkEvalRun(kindOf(kind), name, versionParam(version), runId));
        print(o, v, `${v.kind}/${v.name} v${v.version} evals: ${v.eval_runs.join(", ")}\n`);
      });
    });
}

function registerRollout(program: Command): void {
  const ro = program.command("rollout").description("blue-green, canary and shadow rollouts of pipeline versions");
  ro.command("start <pipeline>")
    .description("start a rollout of a pipeline alias (default production) to a version")
    .requiredOption("--strategy <strategy>", "blue-green | canary | shadow")
    .requiredOption("--to <version>", "the version to roll out")
    .option("--alias <alias>", "the alias rolled out", "production")
    .option("--steps <percents>", "canary traffic steps, e.g. 5,25,50,100")
    .option("--hold-requests <n>", "canary: candidate requests per step before it is judged")
    .option("--hold-seconds <s>", "canary: seconds per step before it is judged")
    .option("--min-requests <n>", "requests each side needs before a decision")
    .option("--max-error-rate-delta <x>", "candidate error rate − baseline's, at most")
    .option("--max-p95-ratio <x>", "candidate p95 ≤ baseline p95 × ratio + slack")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (pipeline: string, o: Common & { strategy: string; to: string; alias: string; steps?: string; holdRequests?: string; holdSeconds?: string; minRequests?: string; maxErrorRateDelta?: string; maxP95Ratio?: string }) => {
      if (!["blue-green", "canary", "shadow"].includes(o.strategy)) throw new Error(`--strategy must be blue-green, canary or shadow, got "${o.strategy}"`);
      const thresholds: Partial<Thresholds> = {};
      const minRequests = num("--min-requests", o.minRequests);
      const maxErr = num("--max-error-rate-delta", o.maxErrorRateDelta);
      const maxP95 = num("--max-p95-ratio", o.maxP95Ratio);
      if (minRequests !== undefined) thresholds.minRequests = minRequests;
      if (maxErr !== undefined) thresholds.maxErrorRateDelta = maxErr;
      if (maxP95 !== undefined) thresholds.maxP95Ratio = maxP95;
      const holdRequests = num("--hold-requests", o.holdRequests);
      const holdSeconds = num("--hold-seconds", o.holdSeconds);
      await withServices(o, async ({ rollouts }) => {
        const r = await rollouts.start({
          pipeline,
          alias: o.alias,
          strategy: o.strategy as RolloutStrategy,
          toVersion: versionParam(o.to, "to"),
          createdBy: actor(),
          thresholds,
          ...(o.steps ? { steps: o.steps.split(",").map((s) => num("--steps", s.trim())!) } : {}),
          ...(holdRequests !== undefined || holdSeconds !== undefined ? { hold: { ...(holdRequests !== undefined ? { requests: holdRequests } : {}), ...(holdSeconds !== undefined ? { seconds: holdSeconds } : {}) } } : {}),
        });
        const view = await rolloutView(rollouts, r);
        print(o, view, rolloutText(view));
      });
    });
  ro.command("status <id>")
    .description("a rollout with its per-version stats and decision log")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (id: string, o: Common) => {
      await withServices(o, async ({ rollouts }) => {
        const r = await rollouts.get(id);
        if (!r) {
          process.stderr.write(`stratum: no rollout ${id}\n`);
          process.exitCode = 1;
          return;
        }
        const view = await rolloutView(rollouts, r);
        print(o, view, rolloutText(view));
      });
    });
  ro.command("list")
    .description("rollouts, newest first")
    .option("--pipeline <name>", "only this pipeline")
    .option("--status <status>", "running | promoted | rolled_back | aborted | completed")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (o: Common & { pipeline?: string; status?: string }) => {
      await withServices(o, async ({ rollouts }) => {
        const rows: Rollout[] = await rollouts.list({ ...(o.pipeline ? { pipeline: o.pipeline } : {}), ...(o.status ? { status: o.status as RolloutStatus } : {}) });
        const views = await Promise.all(rows.map((r) => rolloutView(rollouts, r)));
        print(o, views, views.map(rolloutLine).join(""));
      });
    });
  for (const action of ["promote", "rollback"] as const) {
    ro.command(`${action} <id>`)
      .description(action === "promote" ? "move the alias to the candidate now" : "back to the baseline (a promoted rollout switches its alias back)")
      .option("--reason <text>", "why (kept in the rollout log)")
      .option("-c, --config <file>", "config file")
      .option("--json", "print JSON")
      .action(async (id: string, o: Common & { reason?: string }) => {
        await withServices(o, async ({ rollouts }) => {
          const r = action === "promote" ? await rollouts.promote(id, actor()) : await rollouts.rollback(id, actor(), o.reason);
          const view = await rolloutView(rollouts, r);
          print(o, view, rolloutText(view));
        });
      });
  }
}

export function registerRegistryCommands(program: Command): void {
  registerRegistry(program);
  registerRollout(program);
}
