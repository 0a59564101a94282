// bench/guardrails: precision, recall and latency of the built-in detectors on
// the public corpora in ../shared/datasets (override with STRATUM_DATASETS):
// PII per entity type, jailbreak / prompt-injection / indirect injection, and
// moderation. Each part is a script of its own under bench/guardrails/; this
// runs them one after the other.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const parts = ["pii", "injection", "moderation"];
let failed = 0;
for (const part of parts) {
  process.stdout.write(`\n=== ${part} ===\n`);
  const script = fileURLToPath(new URL(`./guardrails/${part}.ts`, import.meta.url));
  const r = spawnSync(process.execPath, ["--import", "tsx", script], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
