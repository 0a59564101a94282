// Keys, rate limits and budgets (admin): every key with its limits and its
// budgets' spend (day and month, with meters), the tenants' budgets, a form to
// create a key (the secret is shown once), revoke, and usage per key.
import { useState } from "preact/hooks";
import { api, type List, type UsageRow } from "../api.js";
import { fmtInt, fmtTime, fmtUsd } from "../format.js";
import { Badge, ErrorNote, Loaded, PageHeader, useAsync } from "../ui.js";

interface Limits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  concurrent?: number;
  dailyBudgetUsd?: number;
  monthlyBudgetUsd?: number;
}
interface Key {
  id: string;
  tenant: string;
  name: string | null;
  role: "admin" | "user";
  prefix: string;
  limits: Limits | null;
  created_at: number;
  revoked_at: number | null;
}

interface BudgetRow {
  scope: "key" | "tenant";
  id: string;
  period: "day" | "month";
  limit_usd: number;
  spent_usd: number;
  resets_at: string;
}

/** Spend against one cap: "$0.4000 of $5.0000" over a meter that turns red when used up. */
function BudgetCell({ row, label }: { row: BudgetRow | undefined; label: string }) {
  if (!row) return <span class="muted">–</span>;
  return (
    <span title={`resets ${row.resets_at}`}>
      {fmtUsd(row.spent_usd)} of {fmtUsd(row.limit_usd)}
      <meter min={0} max={row.limit_usd || 1} high={row.limit_usd * 0.8} optimum={0} value={Math.min(row.limit_usd, row.spent_usd)} aria-label={label} />
    </span>
  );
}

const limitText = (l: Limits | null) =>
  [l?.requestsPerMinute ? `${l.requestsPerMinute} req/min` : "", l?.tokensPerMinute ? `${fmtInt(l.tokensPerMinute)} tok/min` : "", l?.concurrent ? `${l.concurrent} concurrent` : ""].filter(Boolean).join(", ") || "defaults";

export function KeysPage() {
  const [revoked, setRevoked] = useState(false);
  const keys = useAsync((signal) => api<List<Key>>("/admin/keys", { signal, query: { include_revoked: revoked ? "true" : undefined } }), [revoked]);
  const usage = useAsync((signal) => api<List<UsageRow>>("/admin/usage", { signal }), [], 15_000);
  const budgets = useAsync((signal) => api<List<BudgetRow>>("/admin/budgets", { signal }), [], 15_000);
  const budgetOf = (scope: BudgetRow["scope"], id: string, period: BudgetRow["period"]) => budgets.data?.data.find((b) => b.scope === scope && b.id === id && b.period === period);
  const tenantBudgets = (budgets.data?.data ?? []).filter((b) => b.scope === "tenant");
  const tenants = [...new Set(tenantBudgets.map((b) => b.id))].sort();
  const [error, setError] = useState<unknown>();
  const spend = new Map<string, { requests: number; tokens: number; cost: number }>();
  for (const r of usage.data?.data ?? []) {
    const s = spend.get(r.keyId) ?? { requests: 0, tokens: 0, cost: 0 };
    spend.set(r.keyId, { requests: s.requests + r.requests, tokens: s.tokens + r.promptTokens + r.completionTokens, cost: s.cost + r.costUsd });
  }
  const revoke = async (k: Key) => {
    if (!confirm(`Revoke key ${k.prefix}… (${k.name ?? k.id}) of ${k.tenant}? Requests with it fail at once.`)) return;
    try {
      await api(`/admin/keys/${encodeURIComponent(k.id)}`, { method: "DELETE" });
      setError(undefined);
      keys.reload();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <section aria-labelledby="page-title">
      <PageHeader title="Keys, limits and budgets">
        <label class="check">
          <input type="checkbox" checked={revoked} onChange={(e) => setRevoked(e.currentTarget.checked)} /> Show revoked
        </label>
      </PageHeader>
      <ErrorNote error={error} />
      <Loaded async={keys} empty={(d) => d.data.length === 0} emptyText="No keys.">
        {(d) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Tenant</th>
                  <th scope="col">Role</th>
                  <th scope="col">Limits</th>
                  <th scope="col" class="num">Budget today</th>
                  <th scope="col" class="num">Budget this month</th>
                  <th scope="col" class="num">Spent 24 h</th>
                  <th scope="col" class="num">Requests 24 h</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((k) => {
                  const s = spend.get(k.id);
                  return (
                    <tr key={k.id} class={k.revoked_at ? "revoked" : ""}>
                      <td>
                        <span class="mono">{k.prefix}…</span> {k.name ?? ""}
                        <div class="muted small mono">{k.id}</div>
                      </td>
                      <td>{k.tenant}</td>
                      <td>
                        <Badge kind={k.role === "admin" ? "warn" : ""}>{k.role}</Badge>
                      </td>
                      <td>{limitText(k.limits)}</td>
                      <td class="num">
                        <BudgetCell row={budgetOf("key", k.id, "day")} label={`Daily budget used by ${k.prefix}`} />
                      </td>
                      <td class="num">
                        <BudgetCell row={budgetOf("key", k.id, "month")} label={`Monthly budget used by ${k.prefix}`} />
                      </td>
                      <td class="num">{fmtUsd(s?.cost ?? 0)}</td>
                      <td class="num">{fmtInt(s?.requests ?? 0)}</td>
                      <td>{fmtTime(k.created_at)}</td>
                      <td>
                        {k.revoked_at ? (
                          <span class="muted">revoked {fmtTime(k.revoked_at)}</span>
                        ) : (
                          <button type="button" class="link danger" onClick={() => revoke(k)} aria-label={`Revoke ${k.prefix}`}>
                            Revoke
                          </button>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      {tenants.length ? (
        <div class="table-wrap">
          <table aria-label="Tenant budgets">
            <caption>
              <strong>Tenant budgets</strong> <span class="muted">(all keys of the tenant together)</span>
            </caption>
            <thead>
              <tr>
                <th scope="col">Tenant</th>
                <th scope="col" class="num">Today</th>
                <th scope="col" class="num">This month</th>
              </tr>
            </thead>
            <tbody>
              {tenants.map((t) => (
                <tr key={t}>
                  <td>{t}</td>
                  <td class="num">
                    <BudgetCell row={budgetOf("tenant", t, "day")} label={`Daily budget used by tenant ${t}`} />
                  </td>
                  <td class="num">
                    <BudgetCell row={budgetOf("tenant", t, "month")} label={`Monthly budget used by tenant ${t}`} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <CreateKey
        onCreated={() => {
          keys.reload();
          budgets.reload();
        }}
      />
    </section>
  );
}

function CreateKey({ onCreated }: { onCreated: () => void }) {
  const [form, setForm] = useState({ tenant: "", name: "", role: "user", rpm: "", tpm: "", concurrent: "", budget: "", monthly: "" });
  const [created, setCreated] = useState<string | undefined>();
  const [error, setError] = useState<unknown>();
  const set = (k: keyof typeof form) => (e: Event) => setForm({ ...form, [k]: (e.currentTarget as HTMLInputElement).value });
  const num = (v: string) => (v.trim() === "" ? undefined : Number(v));
  const submit = async (e: Event) => {
    e.preventDefault();
    const limits = { requestsPerMinute: num(form.rpm), tokensPerMinute: num(form.tpm), concurrent: num(form.concurrent), dailyBudgetUsd: num(form.budget), monthlyBudgetUsd: num(form.monthly) };
    const given = Object.fromEntries(Object.entries(limits).filter(([, v]) => v !== undefined));
    try {
      const r = await api<{ key: string }>("/admin/keys", { body: { tenant: form.tenant, role: form.role, ...(form.name ? { name: form.name } : {}), ...(Object.keys(given).length ? { limits: given } : {}) } });
      setCreated(r.key);
      setError(undefined);
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card" onSubmit={submit} aria-labelledby="create-key">
      <h2 id="create-key">Create a key</h2>
      <div class="form-grid">
        <label>
          Tenant
          <input value={form.tenant} onInput={set("tenant")} required maxLength={64} />
        </label>
        <label>
          Name
          <input value={form.name} onInput={set("name")} maxLength={200} />
        </label>
        <label>
          Role
          <select value={form.role} onChange={set("role")}>
            <option value="user">user</option>
            <option value="admin">admin</option>
          </select>
        </label>
        <label>
          Requests / minute
          <input type="number" min={1} step={1} value={form.rpm} onInput={set("rpm")} />
        </label>
        <label>
          Tokens / minute
          <input type="number" min={1} step={1} value={form.tpm} onInput={set("tpm")} />
        </label>
        <label>
          Concurrent
          <input type="number" min={1} step={1} value={form.concurrent} onInput={set("concurrent")} />
        </label>
        <label>
          Daily budget (USD)
          <input type="number" min={0} step="any" value={form.budget} onInput={set("budget")} />
        </label>
        <label>
          Monthly budget (USD)
          <input type="number" min={0} step="any" value={form.monthly} onInput={set("monthly")} />
        </label>
      </div>
      <ErrorNote error={error} />
      <button type="submit" class="primary">
        Create key
      </button>
      {created ? (
        <p class="note" role="status">
          New key (shown once, copy it now): <code class="secret">{created}</code>
        </p>
      ) : null}
    </form>
  );
}
