import { StratumError } from "../../core/errors.js";
import type { SqliteDb } from "../../data/index.js";
import type { ChatMessage } from "../../protocol/openai.js";
import type { AppendMeta, SessionHistory, SessionInfo, SessionStore, SessionSummary } from "../types.js";
import { applySessionSchema } from "./schema.js";

export interface SqliteSessionStoreOptions {
  /** Messages kept per session; the oldest are pruned past it. */
  maxMessages?: number;
}

export const DEFAULT_MAX_MESSAGES_PER_SESSION = 1_000;

interface SessionRow {
  tenant: string;
  id: string;
  user_id: string | null;
  created_at: number;
  updated_at: number;
  last_seq: number;
  summary_text: string | null;
  summary_covers_through: number | null;
  message_count?: number;
}

export class SqliteSessionStore implements SessionStore {
  private readonly maxMessages: number;
  private readonly stmts;

  constructor(private readonly db: SqliteDb, opts: SqliteSessionStoreOptions = {}) {
    this.maxMessages = Math.max(1, opts.maxMessages ?? DEFAULT_MAX_MESSAGES_PER_SESSION);
    applySessionSchema(db);
    const count = "(SELECT COUNT(*) FROM session_messages m WHERE m.tenant = s.tenant AND m.session_id = s.id) AS message_count";
    this.stmts = {
      session: db.prepare(`SELECT s.*, ${count} FROM sessions s WHERE s.tenant = ? AND s.id = ?`),
      create: db.prepare(
        "INSERT INTO sessions (tenant, id, user_id, created_at, updated_at, last_seq) VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING",
      ),
      touch: db.prepare(
        "UPDATE sessions SET last_seq = ?, updated_at = ?, user_id = COALESCE(user_id, ?) WHERE tenant = ? AND id = ?",
      ),
      lastSeq: db.prepare("SELECT last_seq FROM sessions WHERE tenant = ? AND id = ?"),
      insert: db.prepare("INSERT INTO session_messages (tenant, session_id, seq, message, created_at) VALUES (?, ?, ?, ?, ?)"),
      prune: db.prepare("DELETE FROM session_messages WHERE tenant = ? AND session_id = ? AND seq <= ?"),
      messagesAfter: db.prepare(
        "SELECT seq, message FROM session_messages WHERE tenant = ? AND session_id = ? AND seq > ? ORDER BY seq",
      ),
      setSummary: db.prepare(
        "UPDATE sessions SET summary_text = ?, summary_covers_through = ?, updated_at = ? WHERE tenant = ? AND id = ?",
      ),
      delete: db.prepare("DELETE FROM sessions WHERE tenant = ? AND id = ?"),
      deleteMessages: db.prepare("DELETE FROM session_messages WHERE tenant = ? AND session_id = ?"),
      list: db.prepare(
        `SELECT s.*, ${count} FROM sessions s WHERE s.tenant = ? AND (? IS NULL OR s.user_id = ?)
         ORDER BY s.updated_at DESC, s.id LIMIT ?`,
      ),
    };
  }

  async appendTurns(tenant: string, sessionId: string, messages: ChatMessage[], meta: AppendMeta = {}): Promise<{ firstSeq: number; lastSeq: number }> {
    // One transaction: concurrent appends to a session get distinct, gap-free seqs.
    return this.db.transaction(() => {
      const now = Date.now();
      this.stmts.create.run(tenant, sessionId, meta.user ?? null, now, now);
      const { last_seq } = this.stmts.lastSeq.get(tenant, sessionId) as { last_seq: number };
      let seq = last_seq;
      for (const m of messages) this.stmts.insert.run(tenant, sessionId, ++seq, JSON.stringify(m), now);
      this.stmts.touch.run(seq, now, meta.user ?? null, tenant, sessionId);
      if (seq > this.maxMessages) this.stmts.prune.run(tenant, sessionId, seq - this.maxMessages);
      return { firstSeq: last_seq + 1, lastSeq: seq };
    }).immediate();
  }

  async history(tenant: string, sessionId: string): Promise<SessionHistory> {
    const row = this.stmts.session.get(tenant, sessionId) as SessionRow | undefined;
    if (!row) return { messages: [], seqs: [] };
    const covers = row.summary_text === null ? 0 : (row.summary_covers_through ?? 0);
    const rows = this.stmts.messagesAfter.all(tenant, sessionId, covers) as Array<{ seq: number; message: string }>;
    const out: SessionHistory = { messages: rows.map((r) => JSON.parse(r.message) as ChatMessage), seqs: rows.map((r) => r.seq) };
    if (row.summary_text !== null) out.summary = { text: row.summary_text, coversThrough: covers };
    return out;
  }

  async setSummary(tenant: string, sessionId: string, summary: SessionSummary): Promise<void> {
    this.db.transaction(() => {
      const row = this.stmts.lastSeq.get(tenant, sessionId) as { last_seq: number } | undefined;
      if (!row) throw new StratumError("NotFound", `session '${sessionId}' not found`);
      if (!Number.isInteger(summary.coversThrough) || summary.coversThrough < 0 || summary.coversThrough > row.last_seq) {
        throw new StratumError("InvalidRequest", `summary coversThrough ${summary.coversThrough} is outside 0..${row.last_seq}`, {
          param: "coversThrough",
        });
      }
      this.stmts.setSummary.run(summary.text, summary.coversThrough, Date.now(), tenant, sessionId);
    }).immediate();
  }

  async deleteSession(tenant: string, sessionId: string): Promise<boolean> {
    // Messages are deleted explicitly too, so correctness never depends on the foreign_keys pragma.
    return this.db.transaction(() => {
      this.stmts.deleteMessages.run(tenant, sessionId);
      return this.stmts.delete.run(tenant, sessionId).changes > 0;
    }).immediate();
  }

  async listSessions(tenant: string, opts: { limit?: number; user?: string } = {}): Promise<SessionInfo[]> {
    const limit = Math.max(0, Math.min(opts.limit ?? 100, 10_000));
    const user = opts.user ?? null;
    return (this.stmts.list.all(tenant, user, user, limit) as SessionRow[]).map(toInfo);
  }

  async get(tenant: string, sessionId: string): Promise<SessionInfo | undefined> {
    const row = this.stmts.session.get(tenant, sessionId) as SessionRow | undefined;
    return row ? toInfo(row) : undefined;
  }
}

function toInfo(r: SessionRow): SessionInfo {
  return {
    id: r.id,
    tenant: r.tenant,
    user: r.user_id,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    messageCount: r.message_count ?? 0,
    lastSeq: r.last_seq,
  };
}
