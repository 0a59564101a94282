#!/usr/bin/env node
// The `stratum` command.
import { Command } from "commander";
import { registerApprovalsCommand } from "./approvals.js";
import { registerEvalCommand } from "./eval.js";
import { registerIngestCommand } from "./ingest.js";
import { registerKeysCommand } from "./keys.js";
import { registerRegistryCommands } from "./registry.js";
import { registerServeCommand } from "./serve.js";
import { registerSimUpstreamCommand } from "./sim-upstream.js";

const program = new Command("stratum")
  .description("Stratum: an open platform for running production AI systems")
  .version("0.1.0")
  .showHelpAfterError();

registerServeCommand(program);
registerKeysCommand(program);
registerIngestCommand(program);
registerSimUpstreamCommand(program);
registerEvalCommand(program);
registerApprovalsCommand(program);
registerRegistryCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`stratum: ${(e as Error).message}\n`);
  process.exit(1);
});
