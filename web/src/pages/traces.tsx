// Traces: the list (filters by model, status, session and time; newest
// first; older pages by cursor) and one trace as a waterfall of its spans,
// with each span's attributes and events.
import { useState } from "preact/hooks";
import { api, type List } from "../api.js";
import { fmtInt, fmtMs, fmtTime, fmtUsd } from "../format.js";
import { navigate } from "../router.js";
import { Badge, Empty, Json, Link, Loaded, PageHeader, Score, useAsync } from "../ui.js";

export interface TraceSummary {
  trace_id: string;
  name: string;
  started_at: number;
  duration_ms: number;
  status: "ok" | "error";
  tenant: string;
  model: string;
  pipeline?: string;
  pipeline_version?: number;
  session_id?: string;
  http_status?: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
  span_count: number;
  feedback?: { score: number; comment?: string };
  scores?: Record<string, number>;
}

interface SpanNode {
  span_id: string;
  parent_span_id?: string;
  name: string;
  start_ms: number;
  end_ms: number;
  duration_ms: number;
  status: "ok" | "error" | "unset";
  status_message?: string;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; time_ms: number; attributes: Record<string, unknown> }>;
  children: SpanNode[];
}

interface TraceDetail extends TraceSummary {
  root: SpanNode;
}

/** An error span, or a refused request (a 4xx is a healthy server saying no, but not a success). */
const failed = (t: TraceSummary) => t.status === "error" || (t.http_status ?? 0) >= 400;

const SINCE: Array<[string, number]> = [
  ["Last 15 minutes", 15 * 60_000],
  ["Last hour", 3_600_000],
  ["Last 24 hours", 86_400_000],
  ["Last 7 days", 7 * 86_400_000],
  ["Any time", 0],
];

export function TracesPage({ parts }: { parts: string[] }) {
  return parts[0] ? <TraceView id={parts[0]} /> : <TraceList />;
}

function TraceList() {
  const [model, setModel] = useState("");
  const [status, setStatus] = useState("");
  const [session, setSession] = useState("");
  const [since, setSince] = useState(86_400_000);
  const [pages, setPages] = useState<Array<number | string | undefined>>([undefined]);
  const before = pages.at(-1);
  const list = useAsync(
    (signal) => api<List<TraceSummary>>("/v1/traces", { signal, query: { model, status, session, since: since ? Date.now() - since : undefined, before, limit: 50 } }),
    [model, status, session, since, before],
    5_000,
  );
  const filter = (set: (v: string) => void) => (e: Event) => {
    set((e.currentTarget as HTMLInputElement).value);
    setPages([undefined]);
  };
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Traces" />
      <form class="toolbar" role="search" aria-label="Filter traces" onSubmit={(e) => e.preventDefault()}>
        <label>
          Model or pipeline
          <input value={model} onChange={filter(setModel)} placeholder="any" size={12} />
        </label>
        <label>
          Status
          <select value={status} onChange={filter(setStatus)}>
            <option value="">any</option>
            <option value="ok">ok</option>
            <option value="error">error</option>
          </select>
        </label>
        <label>
          Session
          <input value={session} onChange={filter(setSession)} placeholder="any" size={14} />
        </label>
        <label>
          Time
          <select
            value={String(since)}
            onChange={(e) => {
              setSince(Number(e.currentTarget.value));
              setPages([undefined]);
            }}
          >
            {SINCE.map(([label, ms]) => (
              <option key={ms} value={String(ms)}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </form>
      <Loaded async={list} what="The traces API" empty={(d) => d.data.length === 0} emptyText="No traces match. Send a request from the chat playground and it shows up here.">
        {(d) => (
          <>
            <div class="table-wrap">
              <table class="clickable">
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Model</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">Duration</th>
                    <th scope="col" class="num">Tokens</th>
                    <th scope="col" class="num">Cost</th>
                    <th scope="col" class="num">Spans</th>
                    <th scope="col">Session</th>
                    <th scope="col">Feedback</th>
                  </tr>
                </thead>
                <tbody>
                  {d.data.map((t) => (
                    <tr key={t.trace_id} onClick={() => navigate(`/traces/${t.trace_id}`)}>
                      <td>
                        <Link href={`/traces/${t.trace_id}`}>{fmtTime(t.started_at)}</Link>
                      </td>
                      <td>
                        {t.pipeline ?? t.model}
                        {t.pipeline_version ? ` v${t.pipeline_version}` : ""}
                      </td>
                      <td>
                        <Badge kind={failed(t) ? "bad" : "good"}>{t.http_status ?? t.status}</Badge>
                      </td>
                      <td class="num">{fmtMs(t.duration_ms)}</td>
                      <td class="num">
                        {fmtInt(t.tokens_in)} → {fmtInt(t.tokens_out)}
                      </td>
                      <td class="num">{fmtUsd(t.cost_usd)}</td>
                      <td class="num">{t.span_count}</td>
                      <td class="mono">{t.session_id ?? ""}</td>
                      <td>{t.feedback ? <Score score={t.feedback.score} /> : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div class="pager">
              <button type="button" disabled={pages.length < 2} onClick={() => setPages((p) => p.slice(0, -1))}>
                Newer
              </button>
              <button type="button" disabled={!d.next_before} onClick={() => setPages((p) => [...p, d.next_before ?? undefined])}>
                Older
              </button>
            </div>
          </>
        )}
      </Loaded>
    </section>
  );
}

/** Spans in tree order with their depth. */
function flatten(node: SpanNode, depth = 0, out: Array<{ span: SpanNode; depth: number }> = []) {
  out.push({ span: node, depth });
  for (const c of [...node.children].sort((a, b) => a.start_ms - b.start_ms)) flatten(c, depth + 1, out);
  return out;
}

function TraceView({ id }: { id: string }) {
  const trace = useAsync((signal) => api<TraceDetail>(`/v1/traces/${encodeURIComponent(id)}`, { signal }), [id]);
  const feedback = useAsync((signal) => api<List<{ id: string; score: number; comment: string | null; created_at: number }>>(`/v1/traces/${encodeURIComponent(id)}/feedback`, { signal }), [id]);
  const [selected, setSelected] = useState<string | undefined>();
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={`Trace ${id.slice(0, 12)}`}>
        <Link href="/traces">All traces</Link>
      </PageHeader>
      <Loaded async={trace} what="The traces API">
        {(t) => {
          const rows = flatten(t.root);
          const t0 = t.root.start_ms;
          const span = Math.max(1, Math.max(...rows.map((r) => r.span.end_ms)) - t0);
          const chosen = rows.find((r) => r.span.span_id === selected)?.span;
          return (
            <>
              <dl class="facts inline">
                <dt>Model</dt>
                <dd>
                  {t.pipeline ?? t.model}
                  {t.pipeline_version ? ` v${t.pipeline_version}` : ""}
                </dd>
                <dt>Status</dt>
                <dd>
                  <Badge kind={failed(t) ? "bad" : "good"}>{t.http_status ?? t.status}</Badge>
                </dd>
                <dt>Started</dt>
                <dd>{fmtTime(t.started_at)}</dd>
                <dt>Duration</dt>
                <dd>{fmtMs(t.duration_ms)}</dd>
                <dt>Tokens</dt>
                <dd>
                  {fmtInt(t.tokens_in)} → {fmtInt(t.tokens_out)}
                </dd>
                <dt>Cost</dt>
                <dd>{fmtUsd(t.cost_usd)}</dd>
                {t.session_id ? (
                  <>
                    <dt>Session</dt>
                    <dd class="mono">{t.session_id}</dd>
                  </>
                ) : null}
              </dl>
              <h2>Spans</h2>
              <ul class="waterfall" aria-label="Spans by start time">
                {rows.map(({ span: s, depth }) => (
                  <li key={s.span_id}>
                  <button
                    type="button"
                    class={`span-row ${s.status === "error" ? "error" : ""} ${s.span_id === selected ? "selected" : ""}`}
                    aria-pressed={s.span_id === selected}
                    onClick={() => setSelected(s.span_id === selected ? undefined : s.span_id)}
                  >
                    <span class="span-name" style={{ paddingLeft: `${depth * 0.9}rem` }}>
                      {s.name}
                    </span>
                    <span class="span-track" aria-hidden="true">
                      <span class="span-bar" style={{ left: `${((s.start_ms - t0) / span) * 100}%`, width: `max(2px, ${(s.duration_ms / span) * 100}%)` }} />
                    </span>
                    <span class="span-ms">{fmtMs(s.duration_ms)}</span>
                  </button>
                  </li>
                ))}
              </ul>
              {chosen ? (
                <div class="card">
                  <h3>{chosen.name}</h3>
                  <p class="muted">
                    {fmtMs(chosen.start_ms - t0)} after start · {fmtMs(chosen.duration_ms)} · {chosen.status}
                    {chosen.status_message ? `: ${chosen.status_message}` : ""}
                  </p>
                  <h4>Attributes</h4>
                  {Object.keys(chosen.attributes).length ? <Json value={chosen.attributes} /> : <Empty>No attributes.</Empty>}
                  {chosen.events.length ? (
                    <>
                      <h4>Events</h4>
                      <ul class="plain">
                        {chosen.events.map((e, i) => (
                          <li key={i}>
                            <b>{e.name}</b> at {fmtMs(e.time_ms - t0)}
                            {Object.keys(e.attributes).length ? <Json value={e.attributes} /> : null}
                          </li>
                        ))}
                      </ul>
                    </>
                  ) : null}
                </div>
              ) : (
                <p class="muted small">Select a span to see its attributes and events.</p>
              )}
            </>
          );
        }}
      </Loaded>
      <h2>Feedback</h2>
      <Loaded async={feedback} what="Feedback" empty={(d) => d.data.length === 0} emptyText="No feedback on this trace.">
        {(d) => (
          <ul class="plain">
            {d.data.map((f) => (
              <li key={f.id}>
                <Score score={f.score} /> {f.score} {f.comment ? `— ${f.comment}` : ""} <span class="muted">{fmtTime(f.created_at)}</span>
              </li>
            ))}
          </ul>
        )}
      </Loaded>
    </section>
  );
}
