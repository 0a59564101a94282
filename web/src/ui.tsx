// Small shared pieces: data loading hooks and the empty / error / loading
// states every page shows the same way.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, isMissingApi } from "./api.js";
import { onLinkClick } from "./router.js";

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when deps change (and every `pollMs` when given); keeps the last data while reloading. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[], pollMs?: number): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: undefined, loading: false }),
      (error: unknown) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    const timer = pollMs ? setTimeout(reload, pollMs) : undefined;
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload };
}

/** Latest value of a prop inside long-lived callbacks (intervals, streams). */
export function useLatest<T>(value: T): { current: T } {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

export function Link(props: { href: string; class?: string; children: ComponentChildren; "aria-current"?: "page" | undefined }) {
  return (
    <a href={props.href} class={props.class} onClick={onLinkClick} aria-current={props["aria-current"]}>
      {props.children}
    </a>
  );
}

export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  if (isMissingApi(error)) return <p class="note">{what ?? "This API"} is not available on this server yet.</p>;
  const msg = error instanceof ApiError ? `${error.message}${error.code ? ` (${error.code})` : ""}` : error instanceof Error ? error.message : String(error);
  return (
    <p class="error" role="alert">
      {msg}
    </p>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** Loading placeholder that keeps its height, so the page does not jump when data arrives. */
export function Loading({ lines = 3 }: { lines?: number }) {
  return (
    <div class="loading" aria-busy="true" aria-label="Loading" style={{ minHeight: `${lines * 1.6}em` }}>
      Loading…
    </div>
  );
}

/** Shows loading / error / empty, else the children for the data. */
export function Loaded<T>(props: { async: Async<T>; what?: string; empty?: (d: T) => boolean; emptyText?: ComponentChildren; children: (d: T) => ComponentChildren }) {
  const { data, error, loading } = props.async;
  if (data === undefined) return error ? <ErrorNote error={error} {...(props.what ? { what: props.what } : {})} /> : loading ? <Loading /> : null;
  return (
    <>
      {error ? <ErrorNote error={error} {...(props.what ? { what: props.what } : {})} /> : null}
      {props.empty?.(data) ? <Empty>{props.emptyText ?? "Nothing here yet."}</Empty> : props.children(data)}
    </>
  );
}

export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

export function Badge({ kind, children }: { kind?: string; children: ComponentChildren }) {
  return <span class={`badge ${kind ?? ""}`}>{children}</span>;
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · Stratum`;
  }, [title]);
  return (
    <header class="page-header">
      <h1 tabIndex={-1} id="page-title">
        {title}
      </h1>
      {children ? <div class="actions">{children}</div> : null}
    </header>
  );
}

/** A thumb icon (Feather's thumbs-up, MIT), pointing down for negative feedback; emoji fonts are not everywhere. */
export function Thumb({ down, label }: { down?: boolean; label?: string }) {
  return (
    <svg class="thumb" viewBox="0 0 24 24" width="16" height="16" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" role={label ? "img" : undefined} aria-label={label} aria-hidden={label ? undefined : "true"} style={down ? { transform: "rotate(180deg)" } : undefined}>
      <path d="M14 9V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3zM7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3" />
    </svg>
  );
}

/** A feedback score in [-1, 1] as a thumb (0 as a dot). */
export function Score({ score }: { score: number }) {
  return score > 0 ? <Thumb label={`positive feedback ${score}`} /> : score < 0 ? <Thumb down label={`negative feedback ${score}`} /> : <span aria-label="neutral feedback">·</span>;
}
