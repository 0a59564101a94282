// Registry and rollouts (admin): pipelines, prompts and routes with their
// versions and aliases; rollouts with live progress (traffic share, step,
// the baseline/candidate numbers the decision is made on, the log) and
// one-click rollback or promotion.
import { useState } from "preact/hooks";
import { api, type List } from "../api.js";
import { fmtInt, fmtMs, fmtNum, fmtPct, fmtTime } from "../format.js";
import { navigate } from "../router.js";
import { Badge, Empty, ErrorNote, Json, Link, Loaded, PageHeader, useAsync } from "../ui.js";

interface Entry {
  kind: string;
  name: string;
  latest_version: number;
  aliases: Record<string, number>;
}
interface Version {
  version: number;
  hash: string;
  parent_version: number | null;
  created_by: string;
  created_at: number;
  note?: string | null;
  spec: unknown;
  eval_runs: string[];
}
interface VersionStats {
  requests: number;
  errors: number;
  error_rate: number;
  p95_ms: number;
  guardrail_blocks: number;
  block_rate: number;
  eval: Record<string, number>;
}
export interface Rollout {
  id: string;
  pipeline: string;
  alias: string;
  strategy: string;
  from_version: number;
  to_version: number;
  status: string;
  step_index: number;
  steps: number[];
  traffic_percent: number;
  started_at: number;
  updated_at: number;
  thresholds: Record<string, number>;
  stats: { baseline: VersionStats; candidate: VersionStats };
  log: Array<{ at: number; event: string; message: string; numbers: Record<string, unknown> }>;
}

const STATUS_KIND: Record<string, string> = { running: "warn", promoted: "good", completed: "good", rolled_back: "bad", aborted: "bad" };

export function RegistryPage({ parts }: { parts: string[] }) {
  if (parts[0] === "rollouts" && parts[1]) return <RolloutView id={parts[1]} />;
  if (parts[0] && parts[1]) return <EntryView kind={parts[0]} name={parts[1]} />;
  return <Overview />;
}

function Overview() {
  const entries = useAsync((signal) => api<List<Entry>>("/v1/registry", { signal }), []);
  const rollouts = useAsync((signal) => api<List<Rollout>>("/v1/rollouts", { signal }), [], 3_000);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Registry and rollouts" />
      <h2>Rollouts</h2>
      <Loaded async={rollouts} what="The rollouts API" empty={(d) => d.data.length === 0} emptyText="No rollouts yet. Start one with POST /v1/rollouts.">
        {(d) => (
          <ul class="plain cards">
            {d.data.map((r) => (
              <RolloutCard key={r.id} rollout={r} onChanged={rollouts.reload} />
            ))}
          </ul>
        )}
      </Loaded>
      <h2>Registry</h2>
      <Loaded async={entries} what="The registry API" empty={(d) => d.data.length === 0} emptyText="Nothing registered yet.">
        {(d) => (
          <div class="table-wrap">
            <table class="clickable">
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Name</th>
                  <th scope="col" class="num">Latest</th>
                  <th scope="col">Aliases</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((e) => {
                  const href = `/registry/${encodeURIComponent(e.kind)}/${encodeURIComponent(e.name)}`;
                  return (
                    <tr key={`${e.kind}/${e.name}`} onClick={() => navigate(href)}>
                      <td>{e.kind}</td>
                      <td>
                        <Link href={href}>{e.name}</Link>
                      </td>
                      <td class="num">v{e.latest_version}</td>
                      <td>
                        {Object.entries(e.aliases).map(([a, v]) => (
                          <Badge key={a}>
                            {a} → v{v}
                          </Badge>
                        ))}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </section>
  );
}

/** Baseline vs candidate: the numbers the rollout's judge compares with its thresholds. */
function StatsTable({ r }: { r: Rollout }) {
  const b = r.stats.baseline;
  const c = r.stats.candidate;
  const evals = [...new Set([...Object.keys(b.eval), ...Object.keys(c.eval)])];
  const row = (label: string, fb: string, fc: string) => (
    <tr key={label}>
      <th scope="row">{label}</th>
      <td class="num">{fb}</td>
      <td class="num">{fc}</td>
    </tr>
  );
  return (
    <div class="table-wrap">
      <table class="compact">
        <thead>
          <tr>
            <th scope="col">
              <span class="sr-only">Measure</span>
            </th>
            <th scope="col" class="num">
              Baseline v{r.from_version}
            </th>
            <th scope="col" class="num">
              Candidate v{r.to_version}
            </th>
          </tr>
        </thead>
        <tbody>
          {row("Requests", fmtInt(b.requests), fmtInt(c.requests))}
          {row("Error rate", `${fmtPct(b.error_rate)} (${b.errors})`, `${fmtPct(c.error_rate)} (${c.errors})`)}
          {row("p95 latency", fmtMs(b.p95_ms), fmtMs(c.p95_ms))}
          {row("Guardrail block rate", `${fmtPct(b.block_rate)} (${b.guardrail_blocks})`, `${fmtPct(c.block_rate)} (${c.guardrail_blocks})`)}
          {evals.map((m) => row(m, fmtNum(b.eval[m]), fmtNum(c.eval[m])))}
        </tbody>
      </table>
    </div>
  );
}

function RolloutActions({ r, onChanged }: { r: Rollout; onChanged: (r: Rollout) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  if (r.status !== "running") return null;
  const act = async (verb: "rollback" | "promote") => {
    setBusy(true);
    try {
      onChanged(await api<Rollout>(`/v1/rollouts/${encodeURIComponent(r.id)}/${verb}`, { method: "POST", body: {} }));
      setError(undefined);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <div class="actions">
        <button type="button" class="danger" disabled={busy} onClick={() => act("rollback")}>
          Roll back to v{r.from_version}
        </button>
        <button type="button" disabled={busy} onClick={() => act("promote")}>
          Promote v{r.to_version}
        </button>
      </div>
      <ErrorNote error={error} />
    </>
  );
}

function Progress({ r }: { r: Rollout }) {
  return (
    <div class="progress-block">
      <div class="progress-label">
        <span>
          {r.strategy} · step {Math.min(r.step_index + 1, r.steps.length || 1)} of {r.steps.length || 1}
          {r.steps.length ? ` (${r.steps.join("% → ")}%)` : ""}
        </span>
        <b>{fmtNum(r.traffic_percent, 1)}% to v{r.to_version}</b>
      </div>
      <progress max={100} value={r.traffic_percent} aria-label={`Traffic to v${r.to_version}`} />
    </div>
  );
}

function RolloutCard({ rollout: r, onChanged }: { rollout: Rollout; onChanged: () => void }) {
  return (
    <li class="card rollout">
      <h3>
        <Link href={`/registry/rollouts/${encodeURIComponent(r.id)}`}>
          {r.pipeline} @{r.alias}: v{r.from_version} → v{r.to_version}
        </Link>{" "}
        <Badge kind={STATUS_KIND[r.status] ?? ""}>{r.status.replace("_", " ")}</Badge>
      </h3>
      <Progress r={r} />
      <StatsTable r={r} />
      {r.log.length ? (
        <p class="muted small">
          Last: {r.log.at(-1)!.message} ({fmtTime(r.log.at(-1)!.at)})
        </p>
      ) : null}
      <RolloutActions r={r} onChanged={onChanged} />
    </li>
  );
}

function RolloutView({ id }: { id: string }) {
  const r = useAsync((signal) => api<Rollout>(`/v1/rollouts/${encodeURIComponent(id)}`, { signal }), [id], 2_000);
  const shadow = useAsync(
    (signal) =>
      api<List<{ at: number; request_id: string; baseline: { latency_ms: number; text: string }; candidate: { latency_ms: number; text: string; error?: string }; metrics: Record<string, number> }>>(`/v1/rollouts/${encodeURIComponent(id)}/shadow`, { signal, query: { limit: 20 } }),
    [id],
  );
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={`Rollout ${id.slice(0, 12)}`}>
        <Link href="/registry">Registry</Link>
      </PageHeader>
      <Loaded async={r} what="The rollouts API">
        {(ro) => (
          <>
            <h2>
              {ro.pipeline} @{ro.alias}: v{ro.from_version} → v{ro.to_version} <Badge kind={STATUS_KIND[ro.status] ?? ""}>{ro.status.replace("_", " ")}</Badge>
            </h2>
            <Progress r={ro} />
            <RolloutActions r={ro} onChanged={r.reload} />
            <div class="grid two">
              <div class="card">
                <h3>Numbers</h3>
                <StatsTable r={ro} />
              </div>
              <div class="card">
                <h3>Thresholds</h3>
                <dl class="facts">
                  {Object.entries(ro.thresholds).map(([k, v]) => [<dt key={`k${k}`}>{k}</dt>, <dd key={`v${k}`}>{fmtNum(v)}</dd>])}
                </dl>
              </div>
            </div>
            <h3>Log</h3>
            {ro.log.length === 0 ? (
              <Empty>No events yet.</Empty>
            ) : (
              <ol class="plain log">
                {[...ro.log].reverse().map((e, i) => (
                  <li key={i}>
                    <span class="muted">{fmtTime(e.at)}</span> <b>{e.event}</b> {e.message}
                    {Object.keys(e.numbers).length ? <span class="muted small mono"> {JSON.stringify(e.numbers)}</span> : null}
                  </li>
                ))}
              </ol>
            )}
            {ro.strategy === "shadow" ? (
              <>
                <h3>Shadow comparisons</h3>
                <Loaded async={shadow} empty={(d) => d.data.length === 0} emptyText="No shadow comparisons yet.">
                  {(d) => (
                    <ul class="plain">
                      {d.data.map((s) => (
                        <li key={s.request_id} class="card">
                          <div class="muted small">
                            {fmtTime(s.at)} · baseline {fmtMs(s.baseline.latency_ms)} · candidate {fmtMs(s.candidate.latency_ms)} {Object.entries(s.metrics).map(([k, v]) => `· ${k} ${fmtNum(v)} `)}
                          </div>
                          <div class="side-by-side">
                            <blockquote class="passage">{s.baseline.text}</blockquote>
                            <blockquote class="passage">{s.candidate.error ?? s.candidate.text}</blockquote>
                          </div>
                        </li>
                      ))}
                    </ul>
                  )}
                </Loaded>
              </>
            ) : null}
          </>
        )}
      </Loaded>
    </section>
  );
}

function EntryView({ kind, name }: { kind: string; name: string }) {
  const entry = useAsync((signal) => api<{ kind: string; name: string; aliases: Record<string, number>; versions: Version[] }>(`/v1/registry/${encodeURIComponent(kind)}/${encodeURIComponent(name)}`, { signal }), [kind, name]);
  const [open, setOpen] = useState<number | undefined>();
  const [error, setError] = useState<unknown>();
  const point = async (alias: string, version: number) => {
    try {
      await api(`/v1/registry/${encodeURIComponent(kind)}/${encodeURIComponent(name)}/aliases/${encodeURIComponent(alias)}`, { method: "PUT", body: { version } });
      setError(undefined);
      entry.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={`${kind} ${name}`}>
        <Link href="/registry">Registry</Link>
      </PageHeader>
      <ErrorNote error={error} />
      <Loaded async={entry} what="The registry API">
        {(e) => (
          <>
            <p>
              {Object.entries(e.aliases).map(([a, v]) => (
                <Badge key={a}>
                  {a} → v{v}
                </Badge>
              ))}
            </p>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Version</th>
                    <th scope="col">Hash</th>
                    <th scope="col">Parent</th>
                    <th scope="col">Created</th>
                    <th scope="col">Note</th>
                    <th scope="col">Evals</th>
                    <th scope="col">
                      <span class="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {[...e.versions].reverse().map((v) => (
                    <tr key={v.version}>
                      <td>
                        <button type="button" class="link" aria-expanded={open === v.version} onClick={() => setOpen(open === v.version ? undefined : v.version)}>
                          v{v.version}
                        </button>
                      </td>
                      <td class="mono small">{v.hash.slice(0, 12)}</td>
                      <td>{v.parent_version ? `v${v.parent_version}` : "–"}</td>
                      <td>
                        {fmtTime(v.created_at)} <span class="muted small">{v.created_by}</span>
                      </td>
                      <td>{v.note ?? ""}</td>
                      <td>
                        {v.eval_runs.map((id) => (
                          <Link key={id} href={`/evals/${encodeURIComponent(id)}`}>
                            {id.slice(0, 8)}{" "}
                          </Link>
                        ))}
                      </td>
                      <td>
                        {e.aliases.production === v.version ? (
                          <Badge kind="good">production</Badge>
                        ) : (
                          <button type="button" class="link" onClick={() => point("production", v.version)}>
                            Make production
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {open !== undefined ? (
              <div class="card">
                <h3>v{open} spec</h3>
                <Json value={e.versions.find((v) => v.version === open)?.spec} />
              </div>
            ) : null}
          </>
        )}
      </Loaded>
    </section>
  );
}
