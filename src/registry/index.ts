// Registry: versioned, immutable pipeline configs, prompt templates and model
// routes with content hashes, lineage, eval links and aliases.
export * from "./types.js";
export { canonicalJson, contentHash } from "./content-hash.js";
export { normalizeSpec, checkAliasName, checkEntryName, ALIAS_NAME, ENTRY_NAME, type SpecChecks } from "./specs.js";
export { parseModelRef, type ModelRef, type VersionSelector } from "./model-ref.js";
export { RegistryService, PRODUCTION_ALIAS, CONFIG_ALIAS, CONFIG_CREATOR, type AddVersionInput, type SeedOutcome } from "./service.js";
export { SqliteRegistryStore } from "./sqlite/store.js";
export { PgRegistryStore } from "./postgres/store.js";
export { migrateRegistry, REGISTRY_PG_MIGRATIONS, REGISTRY_PG_MODULE } from "./postgres/migrations.js";
