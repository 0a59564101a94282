// The console's HTTP client: the API key from sessionStorage as a Bearer
// token, OpenAI-shaped errors as ApiError, and a 401 anywhere sends the user
// back to sign-in with the server's message.
const KEY_ITEM = "stratum.console.key";

export interface Me {
  id: string;
  tenant: string;
  name: string | null;
  role: "admin" | "user";
  features: { approvals: boolean; evals: boolean };
}

export interface List<T> {
  object: "list";
  data: T[];
  next_before?: number | string | null;
}

/** A row of `GET /admin/usage`: one key's use of one model. */
export interface UsageRow {
  keyId: string;
  model: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

/** A row of `GET /admin/usage/hourly`: everything used in one UTC hour. */
export interface UsageHour {
  hour: string;
  requests: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

let unauthorized: (message: string) => void = () => {};

export const auth = {
  key: (): string | null => sessionStorage.getItem(KEY_ITEM),
  set: (key: string) => sessionStorage.setItem(KEY_ITEM, key),
  clear: () => sessionStorage.removeItem(KEY_ITEM),
  /** Called on any 401 (the key was revoked, or the server restarted with new keys). */
  onUnauthorized(fn: (message: string) => void) {
    unauthorized = fn;
  },
};

export type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** A raw fetch with the key; a 401 signs out. Used directly for streams. */
export async function send(path: string, init: RequestInit & { key?: string } = {}): Promise<Response> {
  const key = init.key ?? auth.key();
  const headers = new Headers(init.headers);
  if (key) headers.set("authorization", `Bearer ${key}`);
  if (init.body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401 && init.key === undefined) {
    const err = await errorOf(res);
    auth.clear();
    unauthorized(err.message);
    throw err;
  }
  return res;
}

export async function errorOf(res: Response): Promise<ApiError> {
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { error?: { message?: string; code?: string; param?: string } };
    if (body.error?.message) return new ApiError(res.status, body.error.message, body.error.code ?? undefined, body.error.param ?? undefined);
  } catch {
    // not JSON: fall through to the status text
  }
  return new ApiError(res.status, text.slice(0, 300) || `${res.status} ${res.statusText}`);
}

export async function api<T>(path: string, opts: { method?: string; body?: unknown; query?: Query; signal?: AbortSignal; key?: string } = {}): Promise<T> {
  const res = await send(withQuery(path, opts.query), {
    method: opts.method ?? (opts.body === undefined ? "GET" : "POST"),
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.key !== undefined ? { key: opts.key } : {}),
  });
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

/** True when an optional API (traces, registry, drift…) is not on this server yet. */
export function isMissingApi(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.code === "unknown_url";
}
