import { StratumError } from "../../core/errors.js";
import { pgQuery, withTransaction, type PgPool } from "../../data/postgres/pool.js";
import type { ChatMessage } from "../../protocol/openai.js";
import { DEFAULT_MAX_MESSAGES_PER_SESSION } from "../sqlite/session-store.js";
import type { AppendMeta, SessionHistory, SessionInfo, SessionStore, SessionSummary } from "../types.js";

export interface PgSessionStoreOptions {
  /** Messages kept per session; the oldest are pruned past it. */
  maxMessages?: number;
}

type Int = string | number;

interface SessionRow {
  tenant: string;
  id: string;
  user_id: string | null;
  created_at: Int;
  updated_at: Int;
  last_seq: Int;
  message_count: Int;
}

const INFO = `s.tenant, s.id, s.user_id, s.created_at, s.updated_at, s.last_seq,
  (SELECT COUNT(*) FROM session_messages m WHERE m.tenant = s.tenant AND m.session_id = s.id) AS message_count`;

/**
 * Sessions in `sessions` / `session_messages` (see PG_MIGRATIONS). Appends
 * reserve their sequence numbers with one atomic upsert of the session row
 * (`last_seq = last_seq + n`), whose row lock serialises concurrent appends to
 * the same session until commit: seqs are distinct and gap-free, and each
 * append's messages are contiguous.
 */
export class PgSessionStore implements SessionStore {
  private readonly maxMessages: number;

  constructor(private readonly pool: PgPool, opts: PgSessionStoreOptions = {}) {
    this.maxMessages = Math.max(1, opts.maxMessages ?? DEFAULT_MAX_MESSAGES_PER_SESSION);
  }

  async appendTurns(tenant: string, sessionId: string, messages: ChatMessage[], meta: AppendMeta = {}): Promise<{ firstSeq: number; lastSeq: number }> {
    const n = messages.length;
    const bodies = messages.map((m) => JSON.stringify(m));
    return withTransaction(this.pool, async (client) => {
      const now = Date.now();
      const { rows } = await client.query<{ last_seq: Int }>(
        `INSERT INTO sessions AS s (tenant, id, user_id, created_at, updated_at, last_seq) VALUES ($1, $2, $3, $4, $4, $5)
         ON CONFLICT (tenant, id) DO UPDATE
           SET last_seq = s.last_seq + $5, updated_at = GREATEST(s.updated_at, $4), user_id = COALESCE(s.user_id, EXCLUDED.user_id)
         RETURNING last_seq`,
        [tenant, sessionId, meta.user ?? null, now, n],
      );
      const lastSeq = Number(rows[0]!.last_seq);
      const firstSeq = lastSeq - n + 1;
      if (n > 0) {
        await client.query(
          `INSERT INTO session_messages (tenant, session_id, seq, message, created_at)
           SELECT $1, $2, $3::bigint + t.ord - 1, t.message, $4 FROM unnest($5::text[]) WITH ORDINALITY AS t(message, ord)`,
          [tenant, sessionId, firstSeq, now, bodies],
        );
      }
      if (lastSeq > this.maxMessages) {
        await client.query("DELETE FROM session_messages WHERE tenant = $1 AND session_id = $2 AND seq <= $3", [
          tenant,
          sessionId,
          lastSeq - this.maxMessages,
        ]);
      }
      return { firstSeq, lastSeq };
    });
  }

  async history(tenant: string, sessionId: string): Promise<SessionHistory> {
    // One statement, so the summary and the messages come from one snapshot.
    const { rows } = await pgQuery<{ summary_text: string | null; summary_covers_through: Int | null; seq: Int | null; message: string | null }>(
      this.pool,
      `SELECT s.summary_text, s.summary_covers_through, m.seq, m.message
         FROM sessions s
         LEFT JOIN session_messages m ON m.tenant = s.tenant AND m.session_id = s.id
          AND m.seq > CASE WHEN s.summary_text IS NULL THEN 0 ELSE COALESCE(s.summary_covers_through, 0) END
        WHERE s.tenant = $1 AND s.id = $2
        ORDER BY m.seq`,
      [tenant, sessionId],
    );
    const head = rows[0];
    if (!head) return { messages: [], seqs: [] };
    const out: SessionHistory = { messages: [], seqs: [] };
    for (const r of rows) {
      if (r.seq === null || r.message === null) continue;
      out.messages.push(JSON.parse(r.message) as ChatMessage);
      out.seqs.push(Number(r.seq));
    }
    if (head.summary_text !== null) out.summary = { text: head.summary_text, coversThrough: Number(head.summary_covers_through ?? 0) };
    return out;
  }

  async setSummary(tenant: string, sessionId: string, summary: SessionSummary): Promise<void> {
    await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ last_seq: Int }>("SELECT last_seq FROM sessions WHERE tenant = $1 AND id = $2 FOR UPDATE", [
        tenant,
        sessionId,
      ]);
      if (!rows[0]) throw new StratumError("NotFound", `session '${sessionId}' not found`);
      const last = Number(rows[0].last_seq);
      if (!Number.isInteger(summary.coversThrough) || summary.coversThrough < 0 || summary.coversThrough > last) {
        throw new StratumError("InvalidRequest", `summary coversThrough ${summary.coversThrough} is outside 0..${last}`, {
          param: "coversThrough",
        });
      }
      await client.query(
        "UPDATE sessions SET summary_text = $1, summary_covers_through = $2, updated_at = GREATEST(updated_at, $3) WHERE tenant = $4 AND id = $5",
        [summary.text, summary.coversThrough, Date.now(), tenant, sessionId],
      );
    });
  }

  async deleteSession(tenant: string, sessionId: string): Promise<boolean> {
    // Messages go with the session (ON DELETE CASCADE), in the same statement.
    const res = await pgQuery(this.pool, "DELETE FROM sessions WHERE tenant = $1 AND id = $2", [tenant, sessionId]);
    return (res.rowCount ?? 0) > 0;
  }

  async listSessions(tenant: string, opts: { limit?: number; user?: string } = {}): Promise<SessionInfo[]> {
    const limit = Math.max(0, Math.min(Math.floor(opts.limit ?? 100), 10_000));
    const args: unknown[] = [tenant, limit];
    if (opts.user !== undefined) args.push(opts.user);
    const { rows } = await pgQuery<SessionRow>(
      this.pool,
      `SELECT ${INFO} FROM sessions s WHERE s.tenant = $1 ${opts.user !== undefined ? "AND s.user_id = $3" : ""}
        ORDER BY s.updated_at DESC, s.id LIMIT $2`,
      args,
    );
    return rows.map(toInfo);
  }

  async get(tenant: string, sessionId: string): Promise<SessionInfo | undefined> {
    const { rows } = await pgQuery<SessionRow>(this.pool, `SELECT ${INFO} FROM sessions s WHERE s.tenant = $1 AND s.id = $2`, [tenant, sessionId]);
    return rows[0] ? toInfo(rows[0]) : undefined;
  }
}

function toInfo(r: SessionRow): SessionInfo {
  return {
    id: r.id,
    tenant: r.tenant,
    user: r.user_id,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    messageCount: Number(r.message_count ?? 0),
    lastSeq: Number(r.last_seq),
  };
}
