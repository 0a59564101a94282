// Evals (admin): stored runs; two runs side by side (per-metric means with
// their bootstrap intervals, the paired difference candidate − base and its
// interval); per-item drill-down with both outputs and their metrics.
import { Fragment } from "preact";
import { useState } from "preact/hooks";
import { api, type List } from "../api.js";
import { fmtMs, fmtNum, fmtSigned, fmtTime } from "../format.js";
import { navigate } from "../router.js";
import { Badge, Empty, Link, Loaded, PageHeader, useAsync } from "../ui.js";

interface RunSummary {
  id: string;
  createdAt: number;
  model: string;
  dataset: string;
  itemCount: number;
  errorCount: number;
  durationMs: number;
  summary: Record<string, { mean: number; n: number }>;
}
interface ItemResult {
  id: string;
  input: string;
  expected?: string;
  output: string;
  metrics: Record<string, number>;
  latencyMs: number;
  error?: string;
}
interface Run extends RunSummary {
  items: ItemResult[];
}
interface Interval {
  mean: number | null;
  low: number | null;
  high: number | null;
  n: number;
  confidence: number;
}
interface Comparison {
  runs: RunSummary[];
  metrics: Array<{ metric: string; runs: Interval[]; diff?: Interval }>;
  items: Array<{ id: string; input: string; expected?: string; results: Array<ItemResult | null> }>;
}

/** Lower is better for these; a rise is a regression. */
const LOWER_IS_BETTER = new Set(["error", "latency_ms", "prompt_tokens", "completion_tokens", "total_tokens", "cost_usd"]);

export function EvalsPage({ parts, query }: { parts: string[]; query: URLSearchParams }) {
  if (parts[0] === "compare" && query.get("base") && query.get("candidate")) return <Compare base={query.get("base")!} candidate={query.get("candidate")!} />;
  if (parts[0] && parts[0] !== "compare") return <RunView id={parts[0]} />;
  return <RunList />;
}

function RunList() {
  const runs = useAsync((signal) => api<List<RunSummary>>("/v1/evals", { signal }), []);
  const [base, setBase] = useState<string | undefined>();
  const [candidate, setCandidate] = useState<string | undefined>();
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Evals">
        <button type="button" class="primary" disabled={!base || !candidate || base === candidate} onClick={() => navigate(`/evals/compare?base=${encodeURIComponent(base!)}&candidate=${encodeURIComponent(candidate!)}`)}>
          Compare
        </button>
      </PageHeader>
      <p class="muted small">
        Runs stored by <code>stratum eval run</code>. Pick a base and a candidate to compare them.
      </p>
      <Loaded async={runs} what="Eval runs" empty={(d) => d.data.length === 0} emptyText="No eval runs stored yet. Run stratum eval run --dataset file.jsonl --pipeline NAME.">
        {(d) => {
          const metrics = [...new Set(d.data.flatMap((r) => Object.keys(r.summary)))].slice(0, 4);
          return (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Base</th>
                    <th scope="col">Candidate</th>
                    <th scope="col">Run</th>
                    <th scope="col">Model</th>
                    <th scope="col">Dataset</th>
                    <th scope="col" class="num">Items</th>
                    <th scope="col" class="num">Errors</th>
                    {metrics.map((m) => (
                      <th scope="col" class="num" key={m}>
                        {m}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {d.data.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <input type="radio" name="base" aria-label={`Base: ${r.id}`} checked={base === r.id} onChange={() => setBase(r.id)} />
                      </td>
                      <td>
                        <input type="radio" name="candidate" aria-label={`Candidate: ${r.id}`} checked={candidate === r.id} onChange={() => setCandidate(r.id)} />
                      </td>
                      <td>
                        <Link href={`/evals/${encodeURIComponent(r.id)}`}>{fmtTime(r.createdAt)}</Link>
                        <div class="muted small mono">{r.id}</div>
                      </td>
                      <td>{r.model}</td>
                      <td class="mono small">{r.dataset}</td>
                      <td class="num">{r.itemCount}</td>
                      <td class="num">{r.errorCount}</td>
                      {metrics.map((m) => (
                        <td class="num" key={m}>
                          {fmtNum(r.summary[m]?.mean)}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </Loaded>
    </section>
  );
}

const ci = (i: Interval | undefined) => (i && i.n ? `${fmtNum(i.mean)} [${fmtNum(i.low)}, ${fmtNum(i.high)}]` : "–");

function diffVerdict(metric: string, d: Interval | undefined): { kind: string; text: string } {
  if (!d || !d.n || d.low === null || d.high === null) return { kind: "", text: "not comparable" };
  if (d.low <= 0 && d.high >= 0) return { kind: "", text: "no clear difference" };
  const up = d.low > 0;
  const better = LOWER_IS_BETTER.has(metric) ? !up : up;
  return { kind: better ? "good" : "bad", text: better ? "better" : "worse" };
}

function Compare({ base, candidate }: { base: string; candidate: string }) {
  const cmp = useAsync((signal) => api<Comparison>("/v1/evals/compare", { signal, query: { base, candidate } }), [base, candidate]);
  const [open, setOpen] = useState<string | undefined>();
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Compare eval runs">
        <Link href="/evals">All runs</Link>
      </PageHeader>
      <Loaded async={cmp} what="Eval runs">
        {(c) => (
          <>
            <dl class="facts inline">
              <dt>Base</dt>
              <dd>
                {c.runs[0]?.model} <span class="muted mono small">{c.runs[0]?.id}</span>
              </dd>
              <dt>Candidate</dt>
              <dd>
                {c.runs[1]?.model} <span class="muted mono small">{c.runs[1]?.id}</span>
              </dd>
            </dl>
            <p class="muted small">Candidate − base with its 95% paired bootstrap interval over the items both runs scored; means with their intervals.</p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Metric</th>
                    <th scope="col" class="num">Difference [interval]</th>
                    <th scope="col">Verdict</th>
                    <th scope="col" class="num">Base</th>
                    <th scope="col" class="num">Candidate</th>
                  </tr>
                </thead>
                <tbody>
                  {c.metrics.map((m) => {
                    const v = diffVerdict(m.metric, m.diff);
                    return (
                      <tr key={m.metric}>
                        <th scope="row">{m.metric}</th>
                        <td class="num">{m.diff && m.diff.n ? `${fmtSigned(m.diff.mean)} [${fmtSigned(m.diff.low)}, ${fmtSigned(m.diff.high)}]` : "–"}</td>
                        <td>
                          <Badge kind={v.kind}>{v.text}</Badge>
                        </td>
                        <td class="num">{ci(m.runs[0])}</td>
                        <td class="num">{ci(m.runs[1])}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
            <h2>Items</h2>
            {c.items.length === 0 ? (
              <Empty>No items.</Empty>
            ) : (
              <ul class="plain items">
                {c.items.map((it) => (
                  <li key={it.id}>
                    <button type="button" class="item-row" aria-expanded={open === it.id} onClick={() => setOpen(open === it.id ? undefined : it.id)}>
                      <span class="mono">{it.id}</span> <span class="truncate">{it.input}</span>
                      <span class="item-scores">{it.results.map((r, i) => (r ? <ItemScore key={i} r={r} /> : <span key={i}>–</span>))}</span>
                    </button>
                    {open === it.id ? (
                      <div class="side-by-side">
                        {it.expected ? (
                          <div class="wide">
                            <h4>Expected</h4>
                            <blockquote class="passage">{it.expected}</blockquote>
                          </div>
                        ) : null}
                        {it.results.map((r, i) => (
                          <ItemDetail key={i} title={i === 0 ? "Base" : "Candidate"} r={r} />
                        ))}
                      </div>
                    ) : null}
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </Loaded>
    </section>
  );
}

function ItemScore({ r }: { r: ItemResult }) {
  const key = ["exact_match", "token_f1", "fact_recall", "contains"].find((k) => k in r.metrics);
  const v = key ? r.metrics[key]! : undefined;
  return <Badge kind={r.error || (v !== undefined && v < 0.5) ? "bad" : v !== undefined ? "good" : ""}>{r.error ? "error" : key ? `${key} ${fmtNum(v, 2)}` : fmtMs(r.latencyMs)}</Badge>;
}

function ItemDetail({ title, r }: { title: string; r: ItemResult | null | undefined }) {
  return (
    <div>
      <h4>{title}</h4>
      {!r ? (
        <Empty>Not in this run.</Empty>
      ) : (
        <>
          {r.error ? <p class="error">{r.error}</p> : null}
          <blockquote class="passage">{r.output || "(empty)"}</blockquote>
          <dl class="facts">
            {Object.entries(r.metrics).map(([k, v]) => (
              <Fragment key={k}>
                <dt>{k}</dt>
                <dd>{fmtNum(v)}</dd>
              </Fragment>
            ))}
            <dt>latency</dt>
            <dd>{fmtMs(r.latencyMs)}</dd>
          </dl>
        </>
      )}
    </div>
  );
}

function RunView({ id }: { id: string }) {
  const run = useAsync((signal) => api<Run>(`/v1/evals/${encodeURIComponent(id)}`, { signal }), [id]);
  const [open, setOpen] = useState<string | undefined>();
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={`Eval run ${id.slice(0, 12)}`}>
        <Link href="/evals">All runs</Link>
      </PageHeader>
      <Loaded async={run} what="Eval runs">
        {(r) => (
          <>
            <dl class="facts inline">
              <dt>Model</dt>
              <dd>{r.model}</dd>
              <dt>Dataset</dt>
              <dd class="mono">{r.dataset}</dd>
              <dt>Items</dt>
              <dd>
                {r.itemCount} ({r.errorCount} errors)
              </dd>
              <dt>Took</dt>
              <dd>{fmtMs(r.durationMs)}</dd>
              {Object.entries(r.summary).map(([k, s]) => (
                <Fragment key={k}>
                  <dt>{k}</dt>
                  <dd>
                    {fmtNum(s.mean)} <span class="muted small">n={s.n}</span>
                  </dd>
                </Fragment>
              ))}
            </dl>
            <h2>Items</h2>
            <ul class="plain items">
              {r.items.map((it) => (
                <li key={it.id}>
                  <button type="button" class="item-row" aria-expanded={open === it.id} onClick={() => setOpen(open === it.id ? undefined : it.id)}>
                    <span class="mono">{it.id}</span> <span class="truncate">{it.input}</span>
                    <span class="item-scores">
                      <ItemScore r={it} />
                    </span>
                  </button>
                  {open === it.id ? (
                    <div class="side-by-side">
                      {it.expected ? (
                        <div>
                          <h4>Expected</h4>
                          <blockquote class="passage">{it.expected}</blockquote>
                        </div>
                      ) : null}
                      <ItemDetail title="Output" r={it} />
                    </div>
                  ) : null}
                </li>
              ))}
            </ul>
          </>
        )}
      </Loaded>
    </section>
  );
}
