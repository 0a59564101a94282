// Drift: windows of input and output signals compared to a reference window
// with PSI and KS; alerts by metric, log, webhook and an optional re-evaluation.
export * from "./types.js";
export { psi, categoricalPsi, ksTest, ksStatistic, kolmogorovSurvival, quantileEdges, binCounts, summarize, PSI_EPSILON, type KsResult, type Summary } from "./stats.js";
export { detectLanguage, LANGUAGES, type Language } from "./language.js";
export { DriftMonitor, type DriftMonitorOptions, type PinResult } from "./monitor.js";
export { DriftMetrics } from "./metrics.js";
export { WebhookAlertSink } from "./webhook.js";
export { EvalReevaluator, type EvalReevaluatorOptions } from "./reevaluate.js";
export { SqliteDriftStore } from "./sqlite/drift-store.js";
export { PgDriftStore, migrateDrift, DRIFT_PG_MIGRATIONS, DRIFT_PG_MODULE } from "./postgres/drift-store.js";
