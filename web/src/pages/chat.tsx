// Chat playground: pick a model or pipeline, stream the answer (OpenAI SSE),
// show citations with their passages, guardrail decisions, approvals, the
// trace link and thumbs up/down feedback. The session id rides along as
// X-Session-Id, so the server keeps the conversation (only the new message
// is sent).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, ApiError, errorOf, send, type List, type Me } from "../api.js";
import { fmtMs, fmtNum } from "../format.js";
import { sseEvents } from "../sse.js";
import { Badge, ErrorNote, Link, PageHeader, Thumb, useAsync } from "../ui.js";

interface Citation {
  index: number;
  chunk_id: string;
  document_id: string;
  source: string;
  title: string | null;
  headings?: string[];
  score?: number;
  text: string;
}
interface Decision {
  guardrail: string;
  stage: string;
  action: string;
  types?: string[];
  score?: number;
  passage?: number;
}
interface Ext {
  pipeline?: string;
  pipeline_version?: number;
  trace_id?: string;
  citations?: Citation[];
  guardrails?: Decision[];
  approval?: { id: string; status: string; tool: string; expires_at: number };
  retrieval?: { confidence: number; hits: number; answered_from_documents: boolean; query: string };
  grounding?: { score: number; supported: number; sentences: number };
}
interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}
interface Turn {
  id: number;
  role: "user" | "assistant";
  content: string;
  streaming?: boolean;
  ext?: Ext;
  traceId?: string;
  finish?: string;
  usage?: Usage;
  error?: unknown;
  ttftMs?: number;
  totalMs?: number;
  feedback?: { score: number; error?: string; saved?: boolean };
}
interface ChunkEvent {
  choices?: Array<{ delta?: { content?: string | null }; finish_reason?: string | null }>;
  stratum?: Ext;
  usage?: Usage;
  error?: { message: string; code?: string };
}
interface Completion {
  choices: Array<{ message: { content: string | null }; finish_reason: string }>;
  stratum?: Ext;
  usage?: Usage;
}

const newSessionId = () => `console-${Math.random().toString(36).slice(2, 10)}`;
let turnIds = 0;

export function ChatPage({ me }: { me: Me }) {
  const models = useAsync((signal) => api<List<{ id: string }>>("/v1/models", { signal }), []);
  const [model, setModel] = useState(() => sessionStorage.getItem("stratum.console.model") ?? "");
  const [session, setSession] = useState(() => sessionStorage.getItem("stratum.console.session") ?? newSessionId());
  const [stream, setStream] = useState(true);
  const [input, setInput] = useState("");
  const [turns, setTurns] = useState<Turn[]>([]);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const log = useRef<HTMLDivElement>(null);

  useEffect(() => sessionStorage.setItem("stratum.console.session", session), [session]);
  useEffect(() => sessionStorage.setItem("stratum.console.model", model), [model]);
  // A default once the list is known (never over a choice made meanwhile, or a remembered one that still exists).
  useEffect(() => {
    const ids = models.data?.data.map((m) => m.id) ?? [];
    if (ids.length) setModel((m) => (ids.includes(m) ? m : ids.includes("assistant") ? "assistant" : ids[0]!));
  }, [models.data]);
  // Follow the answer as it grows.
  useEffect(() => {
    const el = log.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [turns]);

  const update = (id: number, patch: (t: Turn) => Partial<Turn>) => setTurns((ts) => ts.map((t) => (t.id === id ? { ...t, ...patch(t) } : t)));

  const ask = async (e: Event) => {
    e.preventDefault();
    const text = input.trim();
    if (!text || !model || busy) return;
    const id = ++turnIds;
    setTurns((ts) => [...ts, { id: ++turnIds, role: "user", content: text }, { id, role: "assistant", content: "", streaming: true }]);
    setInput("");
    setBusy(true);
    const ctl = new AbortController();
    abort.current = ctl;
    const started = performance.now();
    try {
      const res = await send("/v1/chat/completions", {
        method: "POST",
        headers: { "x-session-id": session },
        body: JSON.stringify({ model, messages: [{ role: "user", content: text }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }),
        signal: ctl.signal,
      });
      const traceId = res.headers.get("x-stratum-trace-id") ?? undefined;
      update(id, () => ({ ...(traceId ? { traceId } : {}) })); // refused requests are traced too
      if (!res.ok) throw await errorOf(res);
      if (!stream) {
        const c = (await res.json()) as Completion;
        update(id, () => ({ content: c.choices[0]?.message.content ?? "", finish: c.choices[0]?.finish_reason, ext: c.stratum, usage: c.usage, streaming: false, totalMs: performance.now() - started, ...(c.stratum?.trace_id && !traceId ? { traceId: c.stratum.trace_id } : {}) }));
        return;
      }
      for await (const raw of sseEvents(res, ctl.signal)) {
        const ev = raw as ChunkEvent;
        if (ev.error) throw new ApiError(200, ev.error.message, ev.error.code);
        const choice = ev.choices?.[0];
        update(id, (t) => ({
          content: t.content + (choice?.delta?.content ?? ""),
          ...(choice?.delta?.content && t.ttftMs === undefined ? { ttftMs: performance.now() - started } : {}),
          ...(choice?.finish_reason ? { finish: choice.finish_reason } : {}),
          ...(ev.stratum ? { ext: { ...t.ext, ...ev.stratum }, ...(ev.stratum.trace_id && !t.traceId ? { traceId: ev.stratum.trace_id } : {}) } : {}),
          ...(ev.usage ? { usage: ev.usage } : {}),
        }));
      }
      update(id, () => ({ streaming: false, totalMs: performance.now() - started }));
    } catch (err) {
      update(id, () => ({ streaming: false, error: ctl.signal.aborted ? new Error("Stopped.") : err }));
    } finally {
      setBusy(false);
      abort.current = null;
    }
  };

  const feedback = async (t: Turn, score: number) => {
    if (!t.traceId) return;
    update(t.id, () => ({ feedback: { score } }));
    try {
      await api(`/v1/traces/${encodeURIComponent(t.traceId)}/feedback`, { body: { score } });
      update(t.id, () => ({ feedback: { score, saved: true } }));
    } catch (err) {
      update(t.id, () => ({ feedback: { score, error: err instanceof Error ? err.message : String(err) } }));
    }
  };

  return (
    <section class="chat-page" aria-labelledby="page-title">
      <PageHeader title="Chat playground" />
      <div class="toolbar">
        <label>
          Model or pipeline
          <select value={model} onChange={(e) => setModel(e.currentTarget.value)} disabled={!models.data}>
            {(models.data?.data ?? []).map((m) => (
              <option key={m.id} value={m.id}>
                {m.id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Session
          <input value={session} onInput={(e) => setSession(e.currentTarget.value)} size={18} spellcheck={false} />
        </label>
        <button
          type="button"
          onClick={() => {
            setSession(newSessionId());
            setTurns([]);
          }}
        >
          New session
        </button>
        <label class="check">
          <input type="checkbox" checked={stream} onChange={(e) => setStream(e.currentTarget.checked)} /> Stream
        </label>
      </div>
      <ErrorNote error={models.error} />
      <div class="chat-log" ref={log} role="log" aria-live="polite" aria-label="Conversation">
        {turns.length === 0 ? (
          <p class="empty">
            Ask something. Pipelines answer from the <Link href="/collections">collections</Link> of tenant <b>{me.tenant}</b>, with citations.
          </p>
        ) : (
          turns.map((t) => (t.role === "user" ? <UserTurn key={t.id} turn={t} /> : <AnswerTurn key={t.id} turn={t} onFeedback={(s) => feedback(t, s)} />))
        )}
      </div>
      <form class="chat-input" onSubmit={ask}>
        <label for="chat-message" class="sr-only">
          Message
        </label>
        <textarea
          id="chat-message"
          rows={2}
          value={input}
          placeholder="Ask a question (Enter sends, Shift+Enter for a new line)"
          onInput={(e) => setInput(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
              e.preventDefault();
              (e.currentTarget.form as HTMLFormElement).requestSubmit();
            }
          }}
        />
        {busy ? (
          <button type="button" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        ) : (
          <button type="submit" class="primary" disabled={!input.trim() || !model}>
            Send
          </button>
        )}
      </form>
    </section>
  );
}

function UserTurn({ turn }: { turn: Turn }) {
  return (
    <div class="turn user">
      <div class="who">You</div>
      <div class="bubble">{turn.content}</div>
    </div>
  );
}

/** The answer with [n] markers linked to their citation below. */
function AnswerText({ turn }: { turn: Turn }) {
  const cited = new Set((turn.ext?.citations ?? []).map((c) => c.index));
  const parts = turn.content.split(/(\[\d{1,3}\])/);
  return (
    <div class="bubble answer-text">
      {parts.map((p, i) => {
        const m = /^\[(\d{1,3})\]$/.exec(p);
        return m && cited.has(Number(m[1])) ? (
          <a key={i} class="marker" href={`#cite-${turn.id}-${m[1]}`}>
            {p}
          </a>
        ) : (
          p
        )
      })}
      {turn.streaming ? <span class="cursor" aria-hidden="true" /> : null}
    </div>
  );
}

function AnswerTurn({ turn, onFeedback }: { turn: Turn; onFeedback: (score: number) => void }) {
  const ext = turn.ext;
  const decisions = ext?.guardrails ?? [];
  return (
    <div class="turn assistant" aria-busy={turn.streaming ? "true" : "false"}>
      <div class="who">{ext?.pipeline ? `${ext.pipeline}${ext.pipeline_version ? ` v${ext.pipeline_version}` : ""}` : "Answer"}</div>
      {turn.content || !turn.error ? <AnswerText turn={turn} /> : null}
      {turn.error ? <ErrorNote error={turn.error} /> : null}
      {ext?.approval ? (
        <p class="note">
          Waiting for a human: <b>{ext.approval.tool}</b> needs approval ({ext.approval.id}). <Link href="/approvals">Open the approvals queue</Link>
        </p>
      ) : null}
      {decisions.length ? (
        <div class="decisions" aria-label="Guardrail decisions">
          {decisions.map((d, i) => (
            <Badge key={i} kind={d.action === "block" || d.action === "refuse" ? "bad" : d.action === "allow" ? "" : "warn"}>
              {d.stage} · {d.guardrail} · {d.action}
              {d.types?.length ? ` (${d.types.join(", ")})` : ""}
            </Badge>
          ))}
        </div>
      ) : null}
      {ext?.citations?.length ? (
        <ol class="citations" aria-label="Citations">
          {ext.citations.map((c) => (
            <li key={c.index} id={`cite-${turn.id}-${c.index}`} value={c.index}>
              <details>
                <summary>
                  <b>{c.title || c.source}</b>
                  {c.headings?.length ? ` › ${c.headings.filter((h) => h !== c.title).join(" › ")}` : ""} <span class="muted">{c.source}</span>
                  {c.score !== undefined ? <span class="muted"> · score {fmtNum(c.score, 4)}</span> : null}
                </summary>
                <blockquote class="passage">{c.text}</blockquote>
              </details>
            </li>
          ))}
        </ol>
      ) : null}
      <div class="turn-meta">
        {turn.streaming ? (
          <span class="muted">Streaming…</span>
        ) : (
          <>
            {turn.finish ? <span class="muted">finish: {turn.finish}</span> : null}
            {turn.ttftMs !== undefined ? <span class="muted">first token {fmtMs(turn.ttftMs)}</span> : null}
            {turn.totalMs !== undefined ? <span class="muted">total {fmtMs(turn.totalMs)}</span> : null}
            {turn.usage ? (
              <span class="muted">
                {turn.usage.prompt_tokens} → {turn.usage.completion_tokens} tokens
              </span>
            ) : null}
            {ext?.retrieval ? <span class="muted">retrieval confidence {fmtNum(ext.retrieval.confidence, 2)}</span> : null}
            {ext?.grounding ? <span class="muted">grounding {fmtNum(ext.grounding.score, 2)}</span> : null}
            {turn.traceId ? <Link href={`/traces/${turn.traceId}`}>Trace {turn.traceId.slice(0, 8)}</Link> : null}
            {turn.traceId && !turn.error ? (
              <span class="feedback" role="group" aria-label="Rate this answer">
                <button type="button" class="icon" aria-pressed={turn.feedback?.score === 1} aria-label="Good answer" title="Good answer" onClick={() => onFeedback(1)}>
                  <Thumb />
                </button>
                <button type="button" class="icon" aria-pressed={turn.feedback?.score === -1} aria-label="Bad answer" title="Bad answer" onClick={() => onFeedback(-1)}>
                  <Thumb down />
                </button>
                {turn.feedback?.saved ? <span class="muted" role="status">Thanks, saved.</span> : null}
                {turn.feedback?.error ? <span class="error-inline" role="alert">{turn.feedback.error}</span> : null}
              </span>
            ) : null}
          </>
        )}
      </div>
    </div>
  );
}
