// Sessions (stored conversations), long-term memory, and context management.
export type * from "./types.js";
export { SqliteSessionStore, DEFAULT_MAX_MESSAGES_PER_SESSION, type SqliteSessionStoreOptions } from "./sqlite/session-store.js";
export { SqliteMemoryStore, DEFAULT_MAX_FACTS_PER_USER, type SqliteMemoryStoreOptions } from "./sqlite/memory-store.js";
export { PgSessionStore, PgMemoryStore, type PgSessionStoreOptions, type PgMemoryStoreOptions } from "./postgres/index.js";
export {
  fitContext,
  SUMMARY_PREFIX,
  type FitContextInput,
  type FitContextResult,
  type FitFallbackReason,
  type ContextStrategy,
  type Summarizer,
} from "./context-window.js";
export { condenseQuery, looksLikeFollowUp, type CondenseOptions, type QueryRewriter } from "./condense-query.js";
export { MemoryRecall, recallMemory, recallFacts, formatFacts, FACTS_HEADER, type RecallOptions } from "./memory-recall.js";
