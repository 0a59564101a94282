// Collections: the tenant's collections and documents, upload (files or
// pasted text, at once or queued as a job) with each file's outcome, and a
// search box showing the scored chunks the pipelines would retrieve.
import { useState } from "preact/hooks";
import { api, type List } from "../api.js";
import { fmtBytes, fmtNum, fmtTime, isoToMs } from "../format.js";
import { navigate } from "../router.js";
import { Badge, Empty, ErrorNote, Link, Loaded, PageHeader, useAsync } from "../ui.js";

interface Collection {
  name: string;
  created_at: string;
  embedding_model: string | null;
  version: number;
  documents?: number;
}
interface Doc {
  id: string;
  source: string;
  title: string | null;
  mime: string;
  chunks: number;
  bytes: number;
  updated_at: string;
}
interface IngestReport {
  added?: number;
  updated?: number;
  unchanged?: number;
  failed?: number;
  /** A queued ingestion that failed reports why here (without `files`). */
  error?: string;
  files?: Array<{ source: string; status: string; error?: string; chunks?: number }>;
}

/** One document's outcome from an ingest report (synchronous reply or a finished job's result). */
function outcomeOf(src: string, r: IngestReport | undefined, detail?: string): Outcome {
  const f = r?.files?.[0];
  if (f) return { source: src, status: f.status, ...(f.error ? { detail: f.error } : f.chunks !== undefined ? { detail: `${f.chunks} chunks${detail ? `, ${detail}` : ""}` } : detail ? { detail } : {}) };
  if (r?.failed || r?.error) return { source: src, status: "failed", detail: r.error ?? "ingestion failed" };
  const status = r?.added ? "added" : r?.updated ? "updated" : "unchanged";
  return { source: src, status, ...(detail ? { detail } : {}) };
}
interface Job {
  id: string;
  /** The queue's state (the 202 reply says `status: "queued"`). */
  state?: "queued" | "running" | "done" | "failed";
  result?: IngestReport;
  error?: string;
}
interface Hit {
  rank: number;
  score: number;
  lexical_score: number | null;
  dense_score: number | null;
  chunk_id: string;
  text: string;
  headings: string[];
  citation: { document_id: string; source: string; title: string | null };
}

/** One upload's outcome, shown until the next upload. */
interface Outcome {
  source: string;
  status: "ingesting" | "added" | "unchanged" | "queued" | "failed" | string;
  detail?: string;
}

const TEXT_TYPES = /\.(md|markdown|txt|text|html?|json|jsonl|csv|xml|ya?ml|rst)$/i;

async function fileBody(f: File): Promise<{ content: string } | { content_base64: string }> {
  if (TEXT_TYPES.test(f.name) || f.type.startsWith("text/")) return { content: await f.text() };
  const bytes = new Uint8Array(await f.arrayBuffer());
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { content_base64: btoa(bin) };
}

export function CollectionsPage({ parts }: { parts: string[] }) {
  const list = useAsync((signal) => api<List<Collection>>("/v1/collections", { signal }), []);
  const name = parts[0];
  return (
    <section aria-labelledby="page-title">
      <PageHeader title={name ? `Collection ${name}` : "Collections"}>{name ? <Link href="/collections">All collections</Link> : null}</PageHeader>
      {name ? (
        <CollectionView name={name} onChanged={list.reload} />
      ) : (
        <>
          <Loaded async={list} empty={(d) => d.data.length === 0} emptyText="No collections yet. Upload a document below to create one.">
            {(d) => (
              <div class="table-wrap">
                <table class="clickable">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col" class="num">Documents</th>
                      <th scope="col" class="num">Version</th>
                      <th scope="col">Embeddings</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.data.map((c) => (
                      <tr key={c.name} onClick={() => navigate(`/collections/${encodeURIComponent(c.name)}`)}>
                        <td>
                          <Link href={`/collections/${encodeURIComponent(c.name)}`}>{c.name}</Link>
                        </td>
                        <td class="num">{c.documents ?? "–"}</td>
                        <td class="num">{c.version}</td>
                        <td>{c.embedding_model ?? "lexical only"}</td>
                        <td>{fmtTime(isoToMs(c.created_at))}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Loaded>
          <Upload onDone={list.reload} />
        </>
      )}
    </section>
  );
}

function CollectionView({ name, onChanged }: { name: string; onChanged: () => void }) {
  const docs = useAsync((signal) => api<List<Doc>>(`/v1/collections/${encodeURIComponent(name)}/documents`, { signal }), [name]);
  const [deleting, setDeleting] = useState<unknown>();
  const remove = async (d: Doc) => {
    if (!confirm(`Delete ${d.source} from ${name}?`)) return;
    try {
      await api(`/v1/collections/${encodeURIComponent(name)}/documents/${encodeURIComponent(d.id)}`, { method: "DELETE" });
      setDeleting(undefined);
      docs.reload();
    } catch (e) {
      setDeleting(e);
    }
  };
  return (
    <>
      <Search collection={name} />
      <h2>Documents</h2>
      <ErrorNote error={deleting} />
      <Loaded async={docs} empty={(d) => d.data.length === 0} emptyText="No documents in this collection.">
        {(d) => (
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Source</th>
                  <th scope="col">Title</th>
                  <th scope="col">Type</th>
                  <th scope="col" class="num">Chunks</th>
                  <th scope="col" class="num">Size</th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {d.data.map((doc) => (
                  <tr key={doc.id}>
                    <td class="mono">{doc.source}</td>
                    <td>{doc.title ?? ""}</td>
                    <td>{doc.mime}</td>
                    <td class="num">{doc.chunks}</td>
                    <td class="num">{fmtBytes(doc.bytes)}</td>
                    <td>{fmtTime(isoToMs(doc.updated_at))}</td>
                    <td>
                      <button type="button" class="link danger" onClick={() => remove(doc)} aria-label={`Delete ${doc.source}`}>
                        Delete
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Loaded>
      <Upload
        collection={name}
        onDone={() => {
          docs.reload();
          onChanged();
        }}
      />
    </>
  );
}

function Upload({ collection, onDone }: { collection?: string; onDone: () => void }) {
  const [target, setTarget] = useState(collection ?? "docs");
  const [files, setFiles] = useState<File[]>([]);
  const [source, setSource] = useState("");
  const [text, setText] = useState("");
  const [queued, setQueued] = useState(false);
  const [outcomes, setOutcomes] = useState<Outcome[]>([]);
  const [busy, setBusy] = useState(false);

  const ingestOne = async (src: string, body: Record<string, unknown>): Promise<Outcome> => {
    try {
      const path = `/v1/collections/${encodeURIComponent(target)}/documents`;
      if (queued) {
        const job = await api<Job>(path, { body: { source: src, ...body, async: true } });
        return await followJob(src, job.id);
      }
      return outcomeOf(src, await api<IngestReport>(path, { body: { source: src, ...body } }));
    } catch (e) {
      return { source: src, status: "failed", detail: e instanceof Error ? e.message : String(e) };
    }
  };

  /** Polls a queued ingestion until it finishes (or 60 s pass). */
  const followJob = async (src: string, id: string): Promise<Outcome> => {
    for (let i = 0; i < 120; i++) {
      const j = await api<Job>(`/v1/jobs/${encodeURIComponent(id)}`);
      if (j.state === "done") return outcomeOf(src, j.result, `job ${id}`);
      if (j.state === "failed") return { source: src, status: "failed", detail: j.error ?? `job ${id} failed` };
      setOutcomes((os) => os.map((o) => (o.source === src ? { ...o, status: j.state ?? "queued", detail: `job ${id}${j.error ? `: last attempt failed: ${j.error}` : ""}` } : o)));
      await new Promise((r) => setTimeout(r, 500));
    }
    return { source: src, status: "queued", detail: `job ${id} still running` };
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    const work: Array<[string, () => Promise<Record<string, unknown>>]> = files.map((f) => [f.name, () => fileBody(f)]);
    if (text.trim()) work.push([source.trim() || "pasted.md", async () => ({ content: text })]);
    if (!work.length) return;
    setBusy(true);
    setOutcomes(work.map(([src]) => ({ source: src, status: "ingesting" })));
    for (const [src, body] of work) {
      const o = await ingestOne(src, await body());
      setOutcomes((os) => os.map((x) => (x.source === src ? o : x)));
    }
    setBusy(false);
    setFiles([]);
    setText("");
    onDone();
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="upload-title">
      <h2 id="upload-title">Add documents</h2>
      <div class="form-grid">
        {collection ? null : (
          <label>
            Collection
            <input value={target} onInput={(e) => setTarget(e.currentTarget.value)} required pattern="[A-Za-z0-9_.\-]{1,64}" />
          </label>
        )}
        <label>
          Files (Markdown, text, HTML, JSON, PDF)
          <input type="file" multiple onChange={(e) => setFiles([...(e.currentTarget.files ?? [])])} />
        </label>
        <label>
          Or paste text: source name
          <input value={source} onInput={(e) => setSource(e.currentTarget.value)} placeholder="notes.md" />
        </label>
        <label class="wide">
          Text
          <textarea rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={queued} onChange={(e) => setQueued(e.currentTarget.checked)} /> Queue as a background job
        </label>
      </div>
      <button type="submit" class="primary" disabled={busy || (!files.length && !text.trim())}>
        {busy ? "Ingesting…" : "Ingest"}
      </button>
      {outcomes.length ? (
        <ul class="plain outcomes" aria-live="polite">
          {outcomes.map((o) => (
            <li key={o.source}>
              <Badge kind={o.status === "failed" ? "bad" : o.status === "added" || o.status === "updated" ? "good" : ""}>{o.status}</Badge> <span class="mono">{o.source}</span>
              {o.detail ? <span class={o.status === "failed" ? "error-inline" : "muted"}> {o.detail}</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}

function Search({ collection }: { collection: string }) {
  const [query, setQuery] = useState("");
  const [mode, setMode] = useState("hybrid");
  const [result, setResult] = useState<{ confidence: number; took_ms: number; data: Hit[] } | undefined>();
  const [error, setError] = useState<unknown>();
  const run = async (e: Event) => {
    e.preventDefault();
    if (!query.trim()) return;
    try {
      setResult(await api(`/v1/collections/${encodeURIComponent(collection)}/search`, { body: { query, mode, k: 8 } }));
      setError(undefined);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div class="card">
      <form class="toolbar" role="search" onSubmit={run}>
        <label class="grow">
          Search this collection
          <input type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} placeholder="which port does the relay use?" />
        </label>
        <label>
          Mode
          <select value={mode} onChange={(e) => setMode(e.currentTarget.value)}>
            <option value="hybrid">hybrid</option>
            <option value="lexical">lexical</option>
            <option value="dense">dense</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Search
        </button>
      </form>
      <ErrorNote error={error} />
      {result ? (
        result.data.length === 0 ? (
          <Empty>No chunk matches.</Empty>
        ) : (
          <>
            <p class="muted small">
              confidence {fmtNum(result.confidence, 2)} · {fmtNum(result.took_ms, 1)} ms
            </p>
            <ol class="hits">
              {result.data.map((h) => (
                <li key={h.chunk_id}>
                  <div>
                    <b>{h.citation.title ?? h.citation.source}</b>
                    {h.headings.length ? ` › ${h.headings.join(" › ")}` : ""} <span class="muted mono">{h.citation.source}</span>
                  </div>
                  <div class="muted small">
                    score {fmtNum(h.score, 4)}
                    {h.lexical_score !== null ? ` · lexical ${fmtNum(h.lexical_score, 3)}` : ""}
                    {h.dense_score !== null ? ` · dense ${fmtNum(h.dense_score, 3)}` : ""}
                  </div>
                  <blockquote class="passage">{h.text}</blockquote>
                </li>
              ))}
            </ol>
          </>
        )
      ) : null}
    </div>
  );
}
