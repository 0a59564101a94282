// Live metrics (admin): polls /v1/stats every 2 s and derives, per interval,
// request rate, latency and TTFT quantiles, errors by kind, cache hit,
// fallback and retry rates; tokens and cost per model; circuit states and
// retry decisions; usage per key from /admin/usage and per hour over 7 days
// from /admin/usage/hourly; drift signals when that API exists.
import { useEffect, useMemo, useState } from "preact/hooks";
import { api, type List, type UsageHour, type UsageRow } from "../api.js";
import { TimeChart, type Series } from "../chart.js";
import { fmtInt, fmtNum, fmtPct, fmtUsd } from "../format.js";
import { increase, increaseBy, quantiles, total, totalsBy, type Snapshot } from "../metrics-math.js";
import { Badge, Empty, ErrorNote, Loaded, PageHeader, useAsync } from "../ui.js";

const POLL_MS = 2000;
const KEEP = 180; // six minutes of 2 s polls

const MODEL_ROUTES = new Set(["/v1/chat/completions", "/v1/messages", "/v1/embeddings"]);
const isModelRoute = (l: Record<string, string | number>) => MODEL_ROUTES.has(String(l.route));
const CIRCUIT = ["closed", "half-open", "open"] as const;

interface Point {
  at: number;
  rps: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  ttft50: number | null;
  ttft95: number | null;
  errors: Map<string, number>;
  cacheHit: number | null;
  fallback: number | null;
  /** Retries per request, and requests that moved on because a deployment's retry budget was spent. */
  retried: number | null;
  budgetSpent: number | null;
  tokensPerS: number;
}

function point(prev: Snapshot, cur: Snapshot): Point {
  const dt = Math.max(0.001, (cur.at - prev.at) / 1000);
  const reqs = increase(prev, cur, "stratum_requests_total", isModelRoute);
  const [p50, p95, p99] = quantiles(prev, cur, "stratum_request_duration_seconds", [0.5, 0.95, 0.99], isModelRoute).map((s) => (s === null ? null : s * 1000));
  const [ttft50, ttft95] = quantiles(prev, cur, "stratum_time_to_first_token_seconds", [0.5, 0.95]).map((s) => (s === null ? null : s * 1000));
  const errors = new Map<string, number>();
  for (const [status, n] of increaseBy(prev, cur, "stratum_requests_total", "status", (l) => isModelRoute(l) && Number(l.status) >= 400)) if (n) errors.set(`HTTP ${status}`, n / dt);
  for (const [outcome, n] of increaseBy(prev, cur, "stratum_upstream_attempts_total", "outcome", (l) => l.outcome !== "success")) if (n) errors.set(`upstream ${outcome}`, n / dt);
  const hits = increase(prev, cur, "stratum_cache_lookups_total", (l) => l.result === "hit");
  const lookups = increase(prev, cur, "stratum_cache_lookups_total", (l) => l.result === "hit" || l.result === "miss");
  const fallbacks = increase(prev, cur, "stratum_fallbacks_total");
  const retried = increase(prev, cur, "stratum_retries_total", (l) => l.decision === "retried");
  const budgetSpent = increase(prev, cur, "stratum_retries_total", (l) => l.decision === "budget_spent");
  return {
    at: cur.at,
    rps: reqs / dt,
    p50: p50 ?? null,
    p95: p95 ?? null,
    p99: p99 ?? null,
    ttft50: ttft50 ?? null,
    ttft95: ttft95 ?? null,
    errors,
    cacheHit: lookups ? hits / lookups : null,
    fallback: reqs ? fallbacks / reqs : null,
    retried: reqs ? retried / reqs : null,
    budgetSpent: reqs ? budgetSpent / reqs : null,
    tokensPerS: increase(prev, cur, "stratum_tokens_total") / dt,
  };
}

export function MetricsPage() {
  const [snaps, setSnaps] = useState<Snapshot[]>([]);
  const [error, setError] = useState<unknown>();
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    if (paused) return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const s = await api<Snapshot>("/v1/stats");
        if (stop) return;
        setSnaps((xs) => [...xs.slice(-(KEEP - 1)), s]);
        setError(undefined);
      } catch (e) {
        if (!stop) setError(e);
      }
      if (!stop) timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [paused]);

  const points = useMemo(() => snaps.slice(1).map((s, i) => point(snaps[i]!, s)), [snaps]);
  const latest = snaps.at(-1);
  const times = points.map((p) => p.at);
  const errorKinds = [...new Set(points.flatMap((p) => [...p.errors.keys()]))].sort();
  const series = useMemo(
    () => ({
      rate: [{ label: "requests/s", values: points.map((p) => p.rps) }, { label: "tokens/s ÷ 100", values: points.map((p) => p.tokensPerS / 100) }],
      latency: [
        { label: "p50", values: points.map((p) => p.p50) },
        { label: "p95", values: points.map((p) => p.p95) },
        { label: "p99", values: points.map((p) => p.p99) },
      ],
      ttft: [
        { label: "TTFT p50", values: points.map((p) => p.ttft50) },
        { label: "TTFT p95", values: points.map((p) => p.ttft95) },
      ],
      errors: (errorKinds.length ? errorKinds : ["errors"]).map((k): Series => ({ label: k, values: points.map((p) => p.errors.get(k) ?? 0) })),
      ratios: [
        { label: "cache hit rate %", values: points.map((p) => (p.cacheHit === null ? null : p.cacheHit * 100)) },
        { label: "fallback rate %", values: points.map((p) => (p.fallback === null ? null : p.fallback * 100)) },
        { label: "retries %", values: points.map((p) => (p.retried === null ? null : p.retried * 100)) },
        { label: "retry budget spent %", values: points.map((p) => (p.budgetSpent === null ? null : p.budgetSpent * 100)) },
      ],
    }),
    [points],
  );

  return (
    <section aria-labelledby="page-title" data-samples={snaps.length}>
      <PageHeader title="Live metrics">
        <span class="muted" role="status">
          {latest ? `updated ${new Date(latest.at).toLocaleTimeString()} · ${latest.in_flight} in flight` : "waiting for the first sample…"}
        </span>
        <button type="button" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
          {paused ? "Resume" : "Pause"}
        </button>
      </PageHeader>
      <ErrorNote error={error} />
      <p class="muted small">Rates and quantiles are per 2-second interval, over chat, messages and embeddings requests, computed in the browser from successive samples of the server's counters.</p>
      <div class="grid charts">
        <TimeChart title="Request rate" times={times} series={series.rate} unit="/s" />
        <TimeChart title="Latency" times={times} series={series.latency} unit="ms" />
        <TimeChart title="Time to first token" times={times} series={series.ttft} unit="ms" />
        <TimeChart title="Errors by kind" times={times} series={series.errors} unit="/s" />
        <TimeChart title="Cache hits, fallbacks and retries" times={times} series={series.ratios} unit="%" />
      </div>
      {latest ? <Totals snap={latest} /> : null}
      <UsageHistory />
      <UsageByKey />
      <Drift />
    </section>
  );
}

function Totals({ snap }: { snap: Snapshot }) {
  const tokensIn = totalsBy(snap, "stratum_tokens_total", "model", (l) => l.direction === "in");
  const tokensOut = totalsBy(snap, "stratum_tokens_total", "model", (l) => l.direction === "out");
  const cost = totalsBy(snap, "stratum_cost_usd_total", "model");
  const requests = totalsBy(snap, "stratum_requests_total", "model", isModelRoute);
  const models = [...new Set([...requests.keys(), ...tokensIn.keys(), ...cost.keys()])].filter((m) => m && m !== "-").sort();
  const circuits = totalsBy(snap, "stratum_circuit_state", "deployment");
  const hits = total(snap, "stratum_cache_lookups_total", (l) => l.result === "hit");
  const lookups = total(snap, "stratum_cache_lookups_total", (l) => l.result === "hit" || l.result === "miss");
  const guard = totalsBy(snap, "stratum_guardrail_decisions_total", "action");
  const limited = totalsBy(snap, "stratum_rate_limit_rejections_total", "limit");
  const retries = totalsBy(snap, "stratum_retries_total", "decision");
  return (
    <div class="grid two">
      <div class="card">
        <h2>Tokens and cost per model (since start)</h2>
        {models.length === 0 ? (
          <Empty>No model requests yet.</Empty>
        ) : (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col" class="num">Requests</th>
                  <th scope="col" class="num">Tokens in</th>
                  <th scope="col" class="num">Tokens out</th>
                  <th scope="col" class="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {models.map((m) => (
                  <tr key={m}>
                    <th scope="row">{m}</th>
                    <td class="num">{fmtInt(requests.get(m))}</td>
                    <td class="num">{fmtInt(tokensIn.get(m))}</td>
                    <td class="num">{fmtInt(tokensOut.get(m))}</td>
                    <td class="num">{fmtUsd(cost.get(m) ?? 0)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </div>
      <div class="card">
        <h2>Circuits and safety</h2>
        {circuits.size === 0 ? (
          <Empty>No deployments.</Empty>
        ) : (
          <ul class="plain">
            {[...circuits].map(([d, v]) => (
              <li key={d}>
                <Badge kind={v === 0 ? "good" : v === 1 ? "warn" : "bad"}>{CIRCUIT[v] ?? String(v)}</Badge> {d}
              </li>
            ))}
          </ul>
        )}
        <dl class="facts">
          <dt>Cache hit rate</dt>
          <dd>{lookups ? fmtPct(hits / lookups) : "–"}</dd>
          <dt>Guardrail decisions</dt>
          <dd>{guard.size ? [...guard].map(([a, n]) => `${a} ${fmtInt(n)}`).join(", ") : "none"}</dd>
          <dt>Rate-limit rejections</dt>
          <dd>{limited.size ? [...limited].map(([a, n]) => `${a} ${fmtInt(n)}`).join(", ") : "none"}</dd>
          <dt>Retries</dt>
          <dd>{retries.size ? [...retries].map(([d, n]) => `${d === "budget_spent" ? "not retried (budget spent)" : d} ${fmtInt(n)}`).join(", ") : "none"}</dd>
        </dl>
      </div>
    </div>
  );
}

const HOUR_MS = 3_600_000;
const HISTORY_HOURS = 7 * 24;

/** Requests and cost per UTC hour over the last 7 days, from the usage store's hourly sums (they outlive the per-request rows). */
function UsageHistory() {
  const usage = useAsync((signal) => api<List<UsageHour>>("/admin/usage/hourly", { signal }), [], 60_000);
  const chart = useMemo(() => {
    const byHour = new Map((usage.data?.data ?? []).map((h) => [Date.parse(h.hour), h]));
    const last = Math.floor(Date.now() / HOUR_MS) * HOUR_MS;
    // Every hour of the window, zero where nothing was used (the API leaves those out).
    const times = Array.from({ length: HISTORY_HOURS + 1 }, (_, i) => last - (HISTORY_HOURS - i) * HOUR_MS);
    const of = (f: (h: UsageHour) => number) =>
      times.map((t) => {
        const h = byHour.get(t);
        return h ? f(h) : 0;
      });
    return {
      times,
      requests: [{ label: "requests", values: of((h) => h.requests) }],
      tokens: [
        { label: "prompt", values: of((h) => h.promptTokens) },
        { label: "completion", values: of((h) => h.completionTokens) },
      ],
      cost: [{ label: "cost", values: of((h) => h.costUsd) }],
      hoursUsed: byHour.size,
    };
  }, [usage.data]);
  return (
    <div class="card" data-hours-used={chart.hoursUsed}>
      <h2>Usage per hour (last 7 days)</h2>
      <ErrorNote error={usage.error} />
      <div class="grid charts">
        <TimeChart title="Requests per hour" times={chart.times} series={chart.requests} span="days" />
        <TimeChart title="Tokens per hour" times={chart.times} series={chart.tokens} span="days" />
        <TimeChart title="Cost per hour" times={chart.times} series={chart.cost} unit="USD" span="days" />
      </div>
    </div>
  );
}

function UsageByKey() {
  const usage = useAsync((signal) => api<List<UsageRow>>("/admin/usage", { signal }), [], 10_000);
  return (
    <div class="card">
      <h2>Tokens and cost per key (last 24 h)</h2>
      <Loaded async={usage} empty={(d) => d.data.length === 0} emptyText="No metered requests in the last 24 hours.">
        {(d) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Model</th>
                  <th scope="col" class="num">Requests</th>
                  <th scope="col" class="num">Prompt</th>
                  <th scope="col" class="num">Completion</th>
                  <th scope="col" class="num">Cost</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((r) => (
                  <tr key={`${r.keyId}/${r.model}`}>
                    <td class="mono">{r.keyId}</td>
                    <td>{r.model}</td>
                    <td class="num">{fmtInt(r.requests)}</td>
                    <td class="num">{fmtInt(r.promptTokens)}</td>
                    <td class="num">{fmtInt(r.completionTokens)}</td>
                    <td class="num">{fmtUsd(r.costUsd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </div>
  );
}

interface DriftSummary {
  n: number;
  mean?: number | null;
  p50?: number | null;
  p95?: number | null;
}
interface DriftSignal {
  name: string;
  status?: "collecting_reference" | "collecting" | "stable" | "drift";
  reference: DriftSummary | null;
  current: DriftSummary | null;
  /** Null while collecting, and KS for categorical signals. */
  psi: number | null;
  ks: { d: number; p_value: number } | null;
  alert: boolean;
}

function Drift() {
  const drift = useAsync((signal) => api<{ signals: DriftSignal[]; updated_at: number }>("/v1/drift", { signal }), [], 15_000);
  const [pinning, setPinning] = useState<unknown>();
  return (
    <div class="card">
      <h2>Drift</h2>
      <Loaded async={drift} what="The drift API" empty={(d) => d.signals.length === 0} emptyText="No drift signals yet.">
        {(d) => (
          <>
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Signal</th>
                    <th scope="col" class="num">Reference mean (n)</th>
                    <th scope="col" class="num">Current mean (n)</th>
                    <th scope="col" class="num">PSI</th>
                    <th scope="col" class="num">KS d (p)</th>
                    <th scope="col">State</th>
                  </tr>
                </thead>
                <tbody>
                  {d.signals.map((s) => (
                    <tr key={s.name}>
                      <th scope="row">{s.name}</th>
                      <td class="num">
                        {fmtNum(s.reference?.mean)} ({fmtInt(s.reference?.n)})
                      </td>
                      <td class="num">
                        {fmtNum(s.current?.mean)} ({fmtInt(s.current?.n)})
                      </td>
                      <td class="num">{fmtNum(s.psi)}</td>
                      <td class="num">
                        {s.ks ? `${fmtNum(s.ks.d)} (${fmtNum(s.ks.p_value)})` : "–"}
                      </td>
                      <td>{s.alert ? <Badge kind="bad">drifting</Badge> : s.status?.startsWith("collecting") ? <Badge>collecting</Badge> : <Badge kind="good">stable</Badge>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <button
              type="button"
              onClick={() =>
                api("/v1/drift/reference", { method: "POST", body: {} }).then(
                  () => (setPinning(undefined), drift.reload()),
                  (e: unknown) => setPinning(e),
                )
              }
            >
              Pin the current window as reference
            </button>
            <ErrorNote error={pinning} />
          </>
        )}
      </Loaded>
    </div>
  );
}
