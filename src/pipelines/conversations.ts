// Server-kept conversations: a TurnContext with a session id reads and extends
// its history; without one every call is a no-op, so callers need no branches.
import type { ChatMessage } from "../protocol/openai.js";
import type { SessionHistory, SessionStore } from "../sessions/index.js";
import type { TurnContext } from "./types.js";

export class Conversations {
  constructor(private readonly store: SessionStore | undefined) {}

  async load(ctx: TurnContext): Promise<SessionHistory> {
    if (!this.store || !ctx.sessionId) return { messages: [], seqs: [] };
    return this.store.history(ctx.tenant, ctx.sessionId);
  }

  async append(ctx: TurnContext, messages: ChatMessage[]): Promise<void> {
    if (!this.store || !ctx.sessionId || messages.length === 0) return;
    await this.store.appendTurns(ctx.tenant, ctx.sessionId, messages, ctx.user ? { user: ctx.user } : undefined);
  }

  /** Store a summary of the oldest `count` messages of `history` (plus any earlier summary). */
  async summarize(ctx: TurnContext, history: SessionHistory, text: string, count: number): Promise<void> {
    const coversThrough = history.seqs[count - 1];
    if (!this.store || !ctx.sessionId || coversThrough === undefined) return;
    await this.store.setSummary(ctx.tenant, ctx.sessionId, { text, coversThrough });
  }
}
