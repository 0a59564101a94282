// PostgreSQL session and memory stores (tables come from data/postgres PG_MIGRATIONS).
export { PgSessionStore, type PgSessionStoreOptions } from "./session-store.js";
export { PgMemoryStore, type PgMemoryStoreOptions } from "./memory-store.js";
