// Evals: datasets, metrics, paired bootstrap, the HTTP runner, stores and reports.
export * from "./types.js";
export * from "./metrics/index.js";
export { seededRandom, mean, bootstrapMean, pairedBootstrap, type BootstrapOptions, type Interval } from "./bootstrap.js";
export { runEval, callChat, summarize, type RunOptions, type RunProgress } from "./runner.js";
export { MemoryEvalStore, runSummary } from "./store.js";
export { SqliteEvalStore, EVAL_SCHEMA } from "./sqlite/eval-store.js";
export { PgEvalStore, migrateEvals, EVALS_PG_MIGRATIONS, EVALS_PG_MODULE } from "./postgres/eval-store.js";
export * from "./report/index.js";
