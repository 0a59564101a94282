// `stratum approvals list|approve|deny`: decides tool-call approvals directly
// in the configured storage (the data dir's SQLite file, or PostgreSQL). A
// running server's sweeper (every 5 s; any replica) then resumes the waiting
// run exactly once; without a running server it resumes on the next start.
import { userInfo } from "node:os";
import type { Command } from "commander";
import { openStorage } from "../app/storage.js";
import { loadStateConfig } from "../config/index.js";
import { approvalView } from "../gateway/routes/approvals.js";
import type { ApprovalStore } from "../tools/index.js";
import { exitOnConfigError } from "./config-errors.js";

async function withApprovals<T>(opts: { config?: string }, fn: (store: ApprovalStore) => Promise<T>): Promise<T> {
  const config = exitOnConfigError(() => loadStateConfig({ path: opts.config }));
  const storage = await openStorage(config);
  try {
    return await fn(storage.approvals);
  } finally {
    await storage.close();
  }
}

function decider(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return "cli";
  }
}

async function decide(store: ApprovalStore, id: string, approve: boolean, reason: string | undefined): Promise<void> {
  const req = await store.get(id);
  if (!req) {
    process.stderr.write(`stratum: no approval with id ${id}\n`);
    process.exitCode = 1;
    return;
  }
  const out = await store.decide(id, req.tenant, { approve, by: decider(), ...(reason ? { reason } : {}) });
  if (!out.ok) {
    process.stderr.write(`stratum: approval ${id} is already ${out.request?.status ?? "decided"}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${out.request.status} ${id} (${out.request.tool}, tenant ${out.request.tenant}); a running server resumes the run within seconds\n`);
}

export function registerApprovalsCommand(program: Command): void {
  const approvals = program.command("approvals").description("human approvals of server-side tool calls (in the configured storage: SQLite or PostgreSQL)");
  approvals
    .command("list")
    .description("pending approvals of a tenant")
    .option("--tenant <name>", "tenant", "default")
    .option("-c, --config <file>", "config file")
    .option("--json", "print JSON")
    .action(async (o: { tenant: string; config?: string; json?: boolean }) => {
      await withApprovals(o, async (store) => {
        const list = (await store.listPending(o.tenant)).map(approvalView);
        if (o.json) return void process.stdout.write(JSON.stringify(list) + "\n");
        if (!list.length) return void process.stdout.write("no pending approvals\n");
        for (const a of list) {
          const expires = new Date((a.expires_at ?? 0) * 1000).toISOString();
          process.stdout.write(`${a.id}  tool=${a.tool}  risk=${a.risk}  expires=${expires}  args=${JSON.stringify(a.arguments)}\n`);
        }
      });
    });
  approvals
    .command("approve <id>")
    .option("--reason <text>", "why (kept in the audit trail)")
    .option("-c, --config <file>", "config file")
    .action(async (id: string, o: { reason?: string; config?: string }) => {
      await withApprovals(o, (store) => decide(store, id, true, o.reason));
    });
  approvals
    .command("deny <id>")
    .requiredOption("--reason <text>", "why (the model is told)")
    .option("-c, --config <file>", "config file")
    .action(async (id: string, o: { reason: string; config?: string }) => {
      await withApprovals(o, (store) => decide(store, id, false, o.reason));
    });
}
