// `stratum keys create|list|revoke`: works directly on the configured storage
// (the data dir's SQLite file, or PostgreSQL), whether or not a server is
// running on it.
import type { Command } from "commander";
import { openStorage } from "../app/storage.js";
import { loadStateConfig } from "../config/index.js";
import { KeyService, publicKeyView } from "../gateway/index.js";
import type { ApiKeyLimits } from "../data/types.js";
import { exitOnConfigError } from "./config-errors.js";

async function withKeys<T>(opts: { config?: string }, fn: (keys: KeyService) => Promise<T>): Promise<T> {
  const config = exitOnConfigError(() => loadStateConfig({ path: opts.config }));
  const storage = await openStorage(config);
  try {
    return await fn(new KeyService(storage.keys));
  } finally {
    await storage.close();
  }
}

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} must be a positive integer, got "${v}"`);
    return n;
  };
}

function usd(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number, got "${v}"`);
    return n;
  };
}

/** A key's own limits for the listing, e.g. `rpm=60 budget/month=$100`; empty when it has none. */
function limitsText(l: ApiKeyLimits): string {
  const parts: string[] = [];
  if (l.requestsPerMinute) parts.push(`rpm=${l.requestsPerMinute}`);
  if (l.tokensPerMinute) parts.push(`tpm=${l.tokensPerMinute}`);
  if (l.concurrent) parts.push(`concurrent=${l.concurrent}`);
  if (l.dailyBudgetUsd !== undefined) parts.push(`budget/day=$${l.dailyBudgetUsd}`);
  if (l.monthlyBudgetUsd !== undefined) parts.push(`budget/month=$${l.monthlyBudgetUsd}`);
  return parts.join(" ");
}

export function registerKeysCommand(program: Command): void {
  const keys = program.command("keys").description("manage API keys (hashed at rest; each belongs to a tenant)");
  keys
    .command("create")
    .requiredOption("--tenant <name>", "tenant the key belongs to")
    .option("--name <name>", "a label for the key")
    .option("--admin", "create an admin key")
    .option("--rpm <n>", "requests per minute", positiveInt("--rpm"))
    .option("--tpm <n>", "tokens per minute", positiveInt("--tpm"))
    .option("--concurrent <n>", "concurrent requests", positiveInt("--concurrent"))
    .option("--daily-budget <usd>", "cost cap in USD per UTC day", usd("--daily-budget"))
    .option("--monthly-budget <usd>", "cost cap in USD per UTC calendar month", usd("--monthly-budget"))
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (o: { tenant: string; name?: string; admin?: boolean; rpm?: number; tpm?: number; concurrent?: number; dailyBudget?: number; monthlyBudget?: number; config?: string; json?: boolean }) => {
      await withKeys(o, async (svc) => {
        const { key, record } = await svc.create({
          tenant: o.tenant,
          name: o.name,
          role: o.admin ? "admin" : "user",
          limits: { requestsPerMinute: o.rpm, tokensPerMinute: o.tpm, concurrent: o.concurrent, dailyBudgetUsd: o.dailyBudget, monthlyBudgetUsd: o.monthlyBudget },
        });
        if (o.json) process.stdout.write(JSON.stringify({ ...publicKeyView(record), key }) + "\n");
        else process.stdout.write(`created ${record.id} for tenant ${record.tenant}\n${key}\n(the key is shown once; only its hash is stored)\n`);
      });
    });
  keys
    .command("list")
    .option("--tenant <name>", "only this tenant")
    .option("--all", "include revoked keys")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (o: { tenant?: string; all?: boolean; config?: string; json?: boolean }) => {
      await withKeys(o, async (svc) => {
        const list = (await svc.list({ tenant: o.tenant, includeRevoked: o.all })).map(publicKeyView);
        if (o.json) return void process.stdout.write(JSON.stringify(list) + "\n");
        if (!list.length) return void process.stdout.write("no keys\n");
        for (const k of list) {
          const limits = limitsText(k.limits);
          process.stdout.write(`${k.id}  ${k.prefix}…  tenant=${k.tenant}  role=${k.role}  ${k.name ? `name=${k.name}  ` : ""}${limits ? `${limits}  ` : ""}${k.revoked_at ? "REVOKED" : "active"}\n`);
        }
      });
    });
  keys
    .command("revoke <id>")
    .option("-c, --config <file>", "config file")
    .action(async (id: string, o: { config?: string }) => {
      await withKeys(o, async (svc) => {
        if (!(await svc.revoke(id))) {
          process.stderr.write(`stratum: no active key with id ${id}\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(`revoked ${id}\n`);
      });
    });
}
