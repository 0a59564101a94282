// Sessions (conversation history) and long-term memory (facts about an end
// user). Both are tenant-scoped: every call names the tenant, and the same
// session id or user id under two tenants are unrelated records.
import type { ChatMessage } from "../protocol/openai.js";

/** Optional bookkeeping stored with a session on append. */
export interface AppendMeta {
  /** The end user the session belongs to (the request's `user`), recorded on first append. */
  user?: string;
}

export interface SessionSummary {
  text: string;
  /** Sequence number of the newest message the summary covers. */
  coversThrough: number;
}

export interface SessionHistory {
  /** Messages after the summary (or all stored ones when there is none), oldest first. */
  messages: ChatMessage[];
  /** Per-session sequence number of each message, parallel to `messages`. */
  seqs: number[];
  summary?: SessionSummary;
}

export interface SessionInfo {
  id: string;
  tenant: string;
  user: string | null;
  createdAt: number;
  updatedAt: number;
  /** Messages currently stored (after pruning). */
  messageCount: number;
  /** Sequence number of the newest message (0 when none). */
  lastSeq: number;
}

export interface SessionStore {
  /**
   * Appends messages in order, numbering them 1, 2, 3... per session, and prunes
   * the oldest beyond the store's per-session bound. Message size is the caller's check.
   */
  appendTurns(tenant: string, sessionId: string, messages: ChatMessage[], meta?: AppendMeta): Promise<{ firstSeq: number; lastSeq: number }>;
  /** The session's summary and the messages it does not cover; empty when the session is unknown. */
  history(tenant: string, sessionId: string): Promise<SessionHistory>;
  /** Replaces the summary. Throws NotFound for an unknown session, InvalidRequest past the last seq. */
  setSummary(tenant: string, sessionId: string, summary: SessionSummary): Promise<void>;
  /** True when a session was deleted. */
  deleteSession(tenant: string, sessionId: string): Promise<boolean>;
  /** Most recently updated first. */
  listSessions(tenant: string, opts?: { limit?: number; user?: string }): Promise<SessionInfo[]>;
  get(tenant: string, sessionId: string): Promise<SessionInfo | undefined>;
}

export interface MemoryFact {
  id: string;
  text: string;
  tags: string[];
  createdAt: number;
}

export interface ScoredFact {
  fact: MemoryFact;
  /** Lexical relevance in [0, 1]: 1 means every query term is in the fact. */
  score: number;
}

export interface MemoryStore {
  add(tenant: string, user: string, fact: { text: string; tags?: string[] }): Promise<MemoryFact>;
  /** Newest first. */
  list(tenant: string, user: string): Promise<MemoryFact[]>;
  /** True when a fact was deleted. */
  delete(tenant: string, user: string, id: string): Promise<boolean>;
  /** Up to k facts, best first; free text is safe (never an FTS syntax error). */
  search(tenant: string, user: string, query: string, k: number): Promise<ScoredFact[]>;
}
