import type { Command } from "commander";
import { compactHeap, createStratum, limitHeapGrowth } from "../app/index.js";
import { loadConfig } from "../config/index.js";
import { exitOnConfigError, exitOnConfigErrorAsync } from "./config-errors.js";

export function registerServeCommand(program: Command): void {
  program
    .command("serve", { isDefault: true })
    .description("start the gateway on embedded defaults (SQLite under ./.stratum)")
    .option("-c, --config <file>", "config file (yaml or json); default: STRATUM_CONFIG or ./stratum.config.yaml if present")
    .action(async (opts: { config?: string }) => {
      const { config, path } = exitOnConfigError(() => loadConfig({ path: opts.config }));
      limitHeapGrowth(config.server.heapGrowthPercent);
      const stratum = await exitOnConfigErrorAsync(() => createStratum({ config, adminKey: process.env.STRATUM_API_KEY || undefined }));
      if (config.server.heapGrowthPercent > 0) compactHeap(); // before listening: no request waits on it
      const url = await stratum.listen();
      if (stratum.generatedAdminKey) {
        process.stderr.write(
          `\n  Admin API key (shown once, stored hashed — save it now):\n\n    ${stratum.generatedAdminKey}\n\n` +
            `  Set STRATUM_API_KEY to use your own. Create user keys with: stratum keys create --tenant NAME\n\n`,
        );
      }
      process.stderr.write(`  Stratum listening on ${url} (config: ${path ?? "built-in defaults"}, data: ${config.dataDir})\n`);
      // Last line of defence: a stray rejection is a bug to log, not a reason to drop every in-flight request.
      process.on("unhandledRejection", (reason) => {
        process.stderr.write(`stratum: unhandled rejection (please report): ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}\n`);
      });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`  ${signal}: draining in-flight requests...\n`);
        stratum.close().then(
          () => process.exit(0),
          (e: unknown) => {
            process.stderr.write(`  shutdown failed: ${(e as Error).message}\n`);
            process.exit(1);
          },
        );
      };
      process.on("SIGTERM", () => stop("SIGTERM"));
      process.on("SIGINT", () => stop("SIGINT"));
    });
}
