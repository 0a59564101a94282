// Tracing: OpenTelemetry spans into a queryable trace store (SQLite or
// PostgreSQL) and OTLP, feedback, and online evaluation of live responses.
export type * from "./types.js";
export { ATTR } from "./attributes.js";
export { Tracing, type TracingOptions } from "./tracing.js";
export { spanTree, type SpanNode } from "./tree.js";
export { SqliteTraceStore } from "./sqlite/trace-store.js";
export { PgTraceStore, migrateTracing } from "./postgres/trace-store.js";
export type { GatewayTracing, OnlineEvalInput } from "./gateway-tracing.js";
export { OnlineEvaluator, type OnlineScore, type OnlineEvalMetric, type OnlineEvaluatorDeps } from "./online-eval.js";
export { QUALITY_SCORES, scoreAnswer } from "./online-metrics.js";
