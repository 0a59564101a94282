// Sign-in: an API key, checked against /v1/me, kept in sessionStorage (gone
// when the tab closes).
import { useState } from "preact/hooks";
import { api, auth, type Me } from "../api.js";

export function SignIn(props: { message: string | undefined; onSignedIn: (me: Me) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) return setError("Enter an API key.");
    setBusy(true);
    setError(undefined);
    try {
      const me = await api<Me>("/v1/me", { key: k });
      auth.set(k);
      props.onSignedIn(me);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Stratum console</h1>
        <p class="muted">Sign in with an API key. The key's tenant scopes everything you see; admin keys see the operations pages too.</p>
        {props.message ? (
          <p class="note" role="status">
            {props.message}
          </p>
        ) : null}
        <label for="api-key">API key</label>
        <input id="api-key" name="api-key" type="password" autocomplete="off" spellcheck={false} value={key} onInput={(e) => setKey(e.currentTarget.value)} placeholder="sk-stratum-…" required />
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
        <p class="muted small">The key stays in this tab's session storage and is sent only to this server.</p>
      </form>
    </main>
  );
}
