// The Stratum web console: sign in with an API key, then pages for the chat
// playground, live metrics, traces, collections, approvals, keys, evals and
// the registry. Admin-only pages are hidden for user keys (the API refuses
// them anyway).
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, auth, type Me } from "./api.js";
import { navigate, useRoute } from "./router.js";
import { Link } from "./ui.js";
import { SignIn } from "./pages/signin.js";
import { ChatPage } from "./pages/chat.js";
import { MetricsPage } from "./pages/metrics.js";
import { TracesPage } from "./pages/traces.js";
import { CollectionsPage } from "./pages/collections.js";
import { ApprovalsPage } from "./pages/approvals.js";
import { KeysPage } from "./pages/keys.js";
import { EvalsPage } from "./pages/evals.js";
import { RegistryPage } from "./pages/registry.js";
import type { JSX } from "preact";

interface PageDef {
  path: string;
  label: string;
  admin?: boolean;
  view: (p: { me: Me; parts: string[]; query: URLSearchParams }) => JSX.Element;
}

const PAGES: PageDef[] = [
  { path: "chat", label: "Chat", view: (p) => <ChatPage {...p} /> },
  // Not /metrics: that is the Prometheus endpoint.
  { path: "live", label: "Metrics", admin: true, view: () => <MetricsPage /> },
  { path: "traces", label: "Traces", view: (p) => <TracesPage {...p} /> },
  { path: "collections", label: "Collections", view: (p) => <CollectionsPage {...p} /> },
  { path: "approvals", label: "Approvals", view: () => <ApprovalsPage /> },
  { path: "keys", label: "Keys & usage", admin: true, view: () => <KeysPage /> },
  { path: "evals", label: "Evals", admin: true, view: (p) => <EvalsPage {...p} /> },
  { path: "registry", label: "Registry", admin: true, view: (p) => <RegistryPage {...p} /> },
];

function App() {
  const route = useRoute();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(Boolean(auth.key()));
  const [message, setMessage] = useState<string | undefined>();

  useEffect(() => {
    auth.onUnauthorized((msg) => {
      setMe(null);
      setMessage(`Signed out: ${msg}`);
    });
    if (!auth.key()) return;
    api<Me>("/v1/me").then(
      (m) => {
        setMe(m);
        setChecking(false);
      },
      () => setChecking(false),
    );
  }, []);

  // Move focus to the page title on navigation, so keyboard and screen-reader users land on the new page.
  useEffect(() => {
    document.getElementById("page-title")?.focus({ preventScroll: true });
  }, [route.path]);

  if (checking) return <main class="signin">Checking your key…</main>;
  if (!me) {
    return (
      <SignIn
        message={message}
        onSignedIn={(m) => {
          setMessage(undefined);
          setMe(m);
          if (route.parts[0] === "signin" || route.path === "/") navigate("/chat", { replace: true });
        }}
      />
    );
  }
  const visible = PAGES.filter((p) => !p.admin || me.role === "admin");
  const page = visible.find((p) => p.path === route.parts[0]);
  if (!page && (route.path === "/" || route.parts[0] === "signin")) {
    queueMicrotask(() => navigate("/chat", { replace: true }));
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <nav class="nav" aria-label="Console">
        <div class="brand">Stratum</div>
        <ul>
          {visible.map((p) => (
            <li key={p.path}>
              <Link href={`/${p.path}`} aria-current={p === page ? "page" : undefined}>
                {p.label}
              </Link>
            </li>
          ))}
        </ul>
        <div class="who">
          <span title={`key ${me.id}`}>
            {me.tenant} · {me.role}
          </span>
          <button
            type="button"
            class="link"
            onClick={() => {
              auth.clear();
              setMe(null);
              setMessage("Signed out.");
              navigate("/signin");
            }}
          >
            Sign out
          </button>
        </div>
      </nav>
      <main id="main" class="main">
        {page ? (
          page.view({ me, parts: route.parts.slice(1), query: route.query })
        ) : PAGES.some((p) => p.path === route.parts[0]) ? (
          <p class="error" role="alert">
            This page needs an admin key.
          </p>
        ) : (
          <p class="empty">
            No page here. <Link href="/chat">Go to the chat playground</Link>.
          </p>
        )}
      </main>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
