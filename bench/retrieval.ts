// Retrieval benchmark: quality on the classic IR collections and PubMedQA
// against plain-BM25 reference figures, then a synthetic 100k-chunk scale run.
//   npm run bench:retrieval        (env: STRATUM_DATASETS, BENCH_SCALE_CHUNKS, BENCH_SKIP_SCALE=1, BENCH_SKIP_QUALITY=1)
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/data/index.js";
import { SqliteRetrievalStore, type ChunkInput, type NewDocument, type SqliteRetrievalStoreOptions } from "../src/retrieval/index.js";
import { DATASETS, loadIrClassic, loadPubmedQa, type EvalDoc } from "./retrieval/datasets.js";
import { averagePrecision, mean, ndcgAt, percentile, recallAt, reciprocalRankAt } from "./retrieval/metrics.js";
import { plainBm25 } from "./retrieval/plain-bm25.js";
import { rng, ZipfText } from "./retrieval/synthetic.js";

type Chunker = (doc: EvalDoc) => ChunkInput[];
const INGEST_BATCH = 100;

/** chunkDocument from the ingest layer when it is exported; else one chunk per document. */
async function pickChunker(): Promise<{ chunker: Chunker; how: string }> {
  try {
    const mod = (await import("../src/ingest/index.js" as string)) as { chunkDocument?: (d: unknown, o?: unknown) => ChunkInput[] };
    if (typeof mod.chunkDocument === "function") {
      const chunkDocument = mod.chunkDocument;
      return {
        how: "chunkDocument (src/ingest)",
        chunker: (d) => chunkDocument({ title: d.title, text: d.text, mime: "text/plain", metadata: {}, blocks: [{ kind: "paragraph", text: d.text, start: 0, end: d.text.length }] }),
      };
    }
  } catch { /* not there yet */ }
  return { how: "one chunk per document (src/ingest exports no chunkDocument yet)", chunker: oneChunk };
}
const oneChunk: Chunker = (d) => [{ ordinal: 0, text: d.text, headings: [], start: 0, end: d.text.length, tokens: Math.ceil(d.text.length / 4) }];

function tempStore(opts?: SqliteRetrievalStoreOptions) {
  const dir = mkdtempSync(join(tmpdir(), "stratum-bench-retrieval-"));
  const db = openDatabase(join(dir, "bench.db"));
  return { store: new SqliteRetrievalStore(db, opts), done: () => { db.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Ingest through putDocuments, `batch` documents per transaction (1 = putDocument per document). */
async function ingest(store: SqliteRetrievalStore, collectionId: string, docs: EvalDoc[], chunker: Chunker, batch = INGEST_BATCH) {
  const t0 = performance.now();
  let chunks = 0;
  const docOfChunk = new Map<string, string>();
  for (let i = 0; i < docs.length; i += batch) {
    const part = docs.slice(i, i + batch).map((d) => ({ d, cs: chunker(d) }));
    const recs = await store.putDocuments(collectionId, part.map(({ d, cs }) => ({ source: d.id, title: d.title, contentHash: d.id, mime: "text/plain", metadata: { id: d.id }, bytes: d.text.length, chunks: cs })));
    part.forEach(({ d, cs }, j) => {
      for (const c of cs) docOfChunk.set(`${recs[j]!.id}:${c.ordinal}`, d.id);
      chunks += cs.length;
    });
  }
  const s = (performance.now() - t0) / 1000;
  return { chunksPerSec: chunks / s, chunks, docOfChunk };
}

/** Ranked distinct source doc ids (several chunks of a doc count once, at the best rank). */
async function rankDocs(store: SqliteRetrievalStore, cid: string, q: string, k: number, docOfChunk: Map<string, string>) {
  const t = performance.now();
  const hits = await store.lexicalSearch(cid, q, k * 3);
  const ms = performance.now() - t;
  const ranked = [...new Set(hits.map((h) => docOfChunk.get(h.chunkId)!))].slice(0, k);
  return { ranked, ms };
}

const f3 = (x: number): string => x.toFixed(3);
const rows: string[][] = [];

async function main() {
  const { chunker, how } = await pickChunker();
  console.log(`datasets: ${DATASETS}\nchunking: ${how}\ningest: putDocuments, ${INGEST_BATCH} documents per transaction (PubMedQA also 1 per transaction)\n`);

  for (const set of process.env.BENCH_SKIP_QUALITY === "1" ? [] : loadIrClassic()) {
    process.stdout.write(`${set.name}: ${set.docs.length} docs, ${set.queries.length} judged queries … `);
    const { store, done } = tempStore();
    const col = await store.ensureCollection("bench", set.name);
    const ing = await ingest(store, col.id, set.docs, chunker);
    const nd: number[] = [], ap: number[] = [], rc: number[] = [], rr: number[] = [], lat: number[] = [];
    const base = plainBm25(set.docs);
    const baseNd: number[] = [];
    for (const q of set.queries) {
      const rel = set.qrels.get(q.id)!;
      const { ranked, ms } = await rankDocs(store, col.id, q.text, 100, ing.docOfChunk);
      lat.push(ms);
      nd.push(ndcgAt(ranked, rel, 10)); ap.push(averagePrecision(ranked, rel)); rc.push(recallAt(ranked, rel, 100)); rr.push(reciprocalRankAt(ranked, rel, 10));
      baseNd.push(ndcgAt(base(q.text, 10), rel, 10));
    }
    done();
    const ours = mean(nd);
    console.log(`nDCG@10 ${f3(ours)} (plain BM25 recomputed here ${f3(mean(baseNd))}, reference ${set.reference.ndcg10})`);
    rows.push([set.name, "nDCG@10", f3(ours), String(set.reference.ndcg10), f3(ours / set.reference.ndcg10)]);
    rows.push([set.name, "nDCG@10 plain BM25 (this harness)", f3(mean(baseNd)), String(set.reference.ndcg10), f3(mean(baseNd) / set.reference.ndcg10)]);
    rows.push([set.name, "MAP@100", f3(mean(ap)), "", ""]);
    rows.push([set.name, "Recall@100", f3(mean(rc)), "", ""]);
    rows.push([set.name, "MRR@10", f3(mean(rr)), "", ""]);
    rows.push([set.name, "ingest chunks/s", ing.chunksPerSec.toFixed(0), "1000 (target)", (ing.chunksPerSec / 1000).toFixed(1)]);
    rows.push([set.name, "query p50 / p99 ms", `${percentile(lat, 50).toFixed(2)} / ${percentile(lat, 99).toFixed(2)}`, "", ""]);
  }

  if (process.env.BENCH_SKIP_QUALITY !== "1") {
    const pq = loadPubmedQa();
    process.stdout.write(`PubMedQA: ${pq.docs.length} abstracts, ${pq.queries.length} questions … `);
    const { store, done } = tempStore();
    const col = await store.ensureCollection("bench", "pubmedqa");
    const ing = await ingest(store, col.id, pq.docs, chunker);
    const hit1: number[] = [], rr: number[] = [], lat: number[] = [];
    for (const q of pq.queries) {
      const { ranked, ms } = await rankDocs(store, col.id, q.text, 100, ing.docOfChunk);
      lat.push(ms);
      hit1.push(ranked[0] === q.id ? 1 : 0);
      rr.push(reciprocalRankAt(ranked, new Set([q.id]), 100));
    }
    done();
    console.log(`hit@1 ${f3(mean(hit1))}, MRR ${f3(mean(rr))}`);
    rows.push(["PubMedQA", "hit@1", f3(mean(hit1)), "0.952", f3(mean(hit1) / 0.952)]);
    rows.push(["PubMedQA", "MRR", f3(mean(rr)), "0.966", f3(mean(rr) / 0.966)]);
    rows.push(["PubMedQA", "ingest chunks/s", ing.chunksPerSec.toFixed(0), "1000 (target)", (ing.chunksPerSec / 1000).toFixed(1)]);
    const single = tempStore();
    const c1 = await single.store.ensureCollection("bench", "pubmedqa");
    const one = await ingest(single.store, c1.id, pq.docs, chunker, 1);
    single.done();
    rows.push(["PubMedQA", "ingest chunks/s (1 tx/doc)", one.chunksPerSec.toFixed(0), "1000 (target)", (one.chunksPerSec / 1000).toFixed(1)]);
    rows.push(["PubMedQA", "query p50 / p99 ms", `${percentile(lat, 50).toFixed(2)} / ${percentile(lat, 99).toFixed(2)}`, "", ""]);
  }

  if (process.env.BENCH_SKIP_SCALE !== "1") await scaleRun(Number(process.env.BENCH_SCALE_CHUNKS ?? 100_000));

  const header = ["set", "metric", "ours", "reference", "ratio"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(`\n${line(header)}\n${widths.map((w) => "-".repeat(w)).join("  ")}`);
  for (const r of rows) console.log(line(r));
}

async function scaleRun(total: number) {
  const rand = rng(7);
  const zipf = new ZipfText(50_000, rand);
  const { store, done } = tempStore();
  const col = await store.ensureCollection("bench", "synthetic");
  const perDoc = 10;
  console.log(`\nscale: ingesting ${total} synthetic chunks (${perDoc} per document, ~120 words each, 10 documents per transaction) …`);
  const t0 = performance.now();
  let analyseMs = 0;
  const docsPerTx = 10;
  for (let d = 0; d * perDoc < total; d += docsPerTx) {
    const a = performance.now();
    const batch: NewDocument[] = [];
    for (let e = d; e < d + docsPerTx && e * perDoc < total; e++) {
      const chunks: ChunkInput[] = [];
      for (let o = 0; o < perDoc && e * perDoc + o < total; o++) {
        const text = zipf.text(80 + Math.floor(rand() * 80));
        chunks.push({ ordinal: o, text, headings: [`section ${o}`], start: 0, end: text.length, tokens: Math.ceil(text.length / 4) });
      }
      batch.push({ source: `doc-${e}`, title: zipf.text(6), contentHash: String(e), mime: "text/plain", metadata: { n: e % 100 }, bytes: 0, chunks });
    }
    analyseMs += performance.now() - a; // text generation, excluded from the rate
    await store.putDocuments(col.id, batch);
    if ((d * perDoc) % 20_000 === 0 && d > 0) process.stdout.write(`  ${d * perDoc} chunks, ${(((d * perDoc) / (performance.now() - t0 - analyseMs)) * 1000).toFixed(0)}/s\n`);
  }
  const ingestS = (performance.now() - t0 - analyseMs) / 1000;
  const rate = total / ingestS;
  console.log(`  ingested in ${ingestS.toFixed(1)} s: ${rate.toFixed(0)} chunks/s`);

  // Queries: 2–8 words drawn from the same Zipf law (mixes common and rare terms), plus long 40-word queries.
  // Wall time and this process's CPU time per query: on a shared machine other
  // processes inflate wall-clock tails; CPU time shows our own cost.
  const timed = async (n: number, query: () => Promise<unknown>) => {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < n; i++) {
      const c0 = process.cpuUsage();
      const t = performance.now();
      await query();
      wall.push(performance.now() - t);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    return { wall, cpu };
  };
  for (let i = 0; i < 50; i++) await store.lexicalSearch(col.id, zipf.text(4), 10); // warm-up
  const lat = await timed(1000, () => store.lexicalSearch(col.id, zipf.text(2 + Math.floor(rand() * 7)), 10));
  const latLong = await timed(200, () => store.lexicalSearch(col.id, zipf.text(40), 10));
  const latFilter = await timed(200, () => store.lexicalSearch(col.id, zipf.text(2 + Math.floor(rand() * 7)), 10, { n: { lt: 10 } }));
  const rss = process.memoryUsage().rss / 2 ** 20;
  done();
  const p = (v: number[]) => `${percentile(v, 50).toFixed(2)} / ${percentile(v, 99).toFixed(2)}`;
  console.log(`  query p50/p99 ms (wall): short ${p(lat.wall)}, 40-word ${p(latLong.wall)}, filtered ${p(latFilter.wall)}; RSS ${rss.toFixed(0)} MiB`);
  console.log(`  query p50/p99 ms (CPU):  short ${p(lat.cpu)}, 40-word ${p(latLong.cpu)}, filtered ${p(latFilter.cpu)}; load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  const name = `synthetic ${total / 1000}k`;
  rows.push([name, "ingest chunks/s", rate.toFixed(0), "1000 (target)", (rate / 1000).toFixed(1)]);
  rows.push([name, "query p50 / p99 ms wall (2-8 words)", p(lat.wall), "p99 < 10 (target)", ""]);
  rows.push([name, "query p50 / p99 ms CPU (2-8 words)", p(lat.cpu), "p99 < 10 (target)", ""]);
  rows.push([name, "query p50 / p99 ms wall (40 words)", p(latLong.wall), "", ""]);
  rows.push([name, "query p50 / p99 ms CPU (40 words)", p(latLong.cpu), "", ""]);
  rows.push([name, "query p50 / p99 ms wall (filtered)", p(latFilter.wall), "", ""]);
  rows.push([name, "query p50 / p99 ms CPU (filtered)", p(latFilter.cpu), "", ""]);
  rows.push([`synthetic ${total / 1000}k`, "RSS MiB", rss.toFixed(0), "", ""]);
}

await main();
