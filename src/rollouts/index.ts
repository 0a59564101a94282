// Rollouts of pipeline versions: blue-green, canary (stable-hash traffic
// steps judged against the baseline), shadow (mirrored, compared), and the
// version-aware pipeline resolver used by serving.
export * from "./types.js";
export { RolloutService, normalizeSteps, trafficPercent, DEFAULT_HOLD, type StartRollout, type RolloutServiceOptions } from "./service.js";
export { judge, type Verdict } from "./judge.js";
export { assignSide, bucketOf } from "./assign.js";
export { ShadowRunner, type ShadowOptions, type CostOf, type Mirror } from "./shadow.js";
export { VersionedPipelines, type VersionedPipelinesDeps } from "./serving.js";
export { SqliteRolloutStore } from "./sqlite/store.js";
export { PgRolloutStore } from "./postgres/store.js";
export { migrateRollouts, ROLLOUTS_PG_MIGRATIONS, ROLLOUTS_PG_MODULE } from "./postgres/migrations.js";
