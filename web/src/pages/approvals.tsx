// Approvals queue: the tenant's pending high-risk tool calls with their
// arguments; approve, or deny with a reason (the model is told why); the
// run resumes on the server and its outcome is shown. Below, the audit trail.
import { useState } from "preact/hooks";
import { api, type List } from "../api.js";
import { fmtTime, secondsToMs } from "../format.js";
import { Badge, ErrorNote, Json, Loaded, PageHeader, useAsync } from "../ui.js";

interface Approval {
  id: string;
  run_id: string;
  tool: string;
  arguments: unknown;
  risk: string;
  status: string;
  created_at: number;
  expires_at: number | null;
  decided_by: string | null;
  decided_at: number | null;
  reason: string | null;
}
interface Decided {
  approval: Approval;
  result: { status: string; message?: string };
}

export function ApprovalsPage() {
  const pending = useAsync((signal) => api<List<Approval>>("/v1/approvals", { signal }), [], 3_000);
  const audit = useAsync((signal) => api<List<Approval>>("/v1/approvals/audit", { signal }), [], 10_000);
  const [results, setResults] = useState<Decided[]>([]);
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Approvals" />
      <p class="muted small">High-risk tool calls wait here until someone decides. The queue refreshes every 3 seconds.</p>
      <Loaded async={pending} what="Approvals" empty={(d) => d.data.length === 0} emptyText="No tool call is waiting for approval.">
        {(d) => (
          <ul class="plain cards">
            {d.data.map((a) => (
              <PendingCard
                key={a.id}
                approval={a}
                onDecided={(r) => {
                  setResults((rs) => [r, ...rs].slice(0, 10));
                  pending.reload();
                  audit.reload();
                }}
              />
            ))}
          </ul>
        )}
      </Loaded>
      {results.length ? (
        <div class="card" aria-live="polite">
          <h2>Just decided</h2>
          <ul class="plain">
            {results.map((r) => (
              <li key={r.approval.id}>
                <Badge kind={r.approval.status === "approved" ? "good" : "bad"}>{r.approval.status}</Badge> <b>{r.approval.tool}</b> ({r.approval.id}) → run {r.result.status}
                {r.result.message ? <blockquote class="passage">{r.result.message}</blockquote> : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <h2>Audit trail</h2>
      <Loaded async={audit} what="The audit trail" empty={(d) => d.data.length === 0} emptyText="No decisions yet.">
        {(d) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Decided</th>
                  <th scope="col">Tool</th>
                  <th scope="col">Decision</th>
                  <th scope="col">By</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Arguments</th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((e) => (
                  <tr key={e.id}>
                    <td>{fmtTime(secondsToMs(e.decided_at))}</td>
                    <td>{e.tool}</td>
                    <td>
                      <Badge kind={e.status === "approved" ? "good" : e.status === "denied" ? "bad" : "warn"}>{e.status}</Badge>
                    </td>
                    <td class="mono">{e.decided_by ?? ""}</td>
                    <td>{e.reason ?? ""}</td>
                    <td class="mono small">{JSON.stringify(e.arguments)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
    </section>
  );
}

function PendingCard({ approval: a, onDecided }: { approval: Approval; onDecided: (r: Decided) => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const decide = async (verb: "approve" | "deny") => {
    if (verb === "deny" && !reason.trim()) {
      setError(new Error("A denial needs a reason: the model is told why."));
      document.getElementById(`reason-${a.id}`)?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      onDecided(await api<Decided>(`/v1/approvals/${encodeURIComponent(a.id)}/${verb}`, { body: reason.trim() ? { reason: reason.trim() } : {} }));
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };
  return (
    <li class="card approval" aria-labelledby={`tool-${a.id}`}>
      <h3 id={`tool-${a.id}`}>
        {a.tool} <Badge kind={a.risk === "high" ? "bad" : "warn"}>{a.risk} risk</Badge>
      </h3>
      <p class="muted small">
        {a.id} · run {a.run_id} · asked {fmtTime(secondsToMs(a.created_at))}
        {a.expires_at ? ` · expires ${fmtTime(secondsToMs(a.expires_at))}` : ""}
      </p>
      <h4>Arguments</h4>
      <Json value={a.arguments} />
      <label for={`reason-${a.id}`}>Reason (required to deny)</label>
      <input id={`reason-${a.id}`} value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={2000} />
      <ErrorNote error={error} />
      <div class="actions">
        <button type="button" class="primary" disabled={busy} onClick={() => decide("approve")}>
          Approve
        </button>
        <button type="button" class="danger" disabled={busy} onClick={() => decide("deny")}>
          Deny
        </button>
      </div>
    </li>
  );
}
