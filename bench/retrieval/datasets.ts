// Loaders for the benchmark collections, read at run time from the shared
// datasets folder (never copied into the repo). Root overridable by STRATUM_DATASETS.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const DATASETS = process.env.STRATUM_DATASETS ?? resolve(fileURLToPath(import.meta.url), "../../../../shared/datasets");

export interface EvalDoc { id: string; title: string; text: string }
export interface EvalSet {
  name: string;
  docs: EvalDoc[];
  queries: Array<{ id: string; text: string }>;
  /** query id → relevant doc ids */
  qrels: Map<string, Set<string>>;
  reference: { ndcg10: number };
}

/** SMART format: records start at `.I n`, fields at `.X` lines. */
function parseSmart(text: string): Array<{ id: string; fields: Record<string, string> }> {
  const out: Array<{ id: string; fields: Record<string, string> }> = [];
  let cur: { id: string; fields: Record<string, string> } | undefined;
  let field = "";
  for (const line of text.split(/\r?\n/)) {
    const m = /^\.([A-Z])(?:\s+(\S+))?\s*$/.exec(line);
    if (m && m[1] === "I") {
      cur = { id: String(Number(m[2])), fields: {} };
      out.push(cur);
      field = "";
    } else if (m) {
      field = m[1]!;
      cur!.fields[field] ??= "";
    } else if (cur && field) {
      cur.fields[field] += line + "\n";
    }
  }
  return out;
}

const read = (...p: string[]): string => readFileSync(join(DATASETS, "ir-classic", ...p), "utf8");

function qrelsFrom(lines: string, pick: (cols: string[]) => [string, string] | undefined): Map<string, Set<string>> {
  const q = new Map<string, Set<string>>();
  for (const line of lines.split(/\r?\n/)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 2) continue;
    const p = pick(cols);
    if (!p) continue;
    const [qid, did] = [String(Number(p[0])), String(Number(p[1]))];
    if (!q.has(qid)) q.set(qid, new Set());
    q.get(qid)!.add(did);
  }
  return q;
}

function smartSet(name: string, all: string, qry: string, qrels: Map<string, Set<string>>, ndcg10: number, sequentialQueryIds = false): EvalSet {
  const docs = parseSmart(all).map((r) => ({ id: r.id, title: (r.fields.T ?? "").trim(), text: (r.fields.W ?? "").trim() }));
  const queries = parseSmart(qry)
    .map((r, i) => ({ id: sequentialQueryIds ? String(i + 1) : r.id, text: (r.fields.W ?? r.fields.T ?? "").trim() }))
    .filter((q) => qrels.has(q.id));
  return { name, docs, queries, qrels, reference: { ndcg10 } };
}

export function loadIrClassic(): EvalSet[] {
  return [
    // CRAN: qrels number queries 1..225 in file order; code -1 ("no relevance") is not relevant.
    smartSet("CRAN", read("cran", "cran.all.1400"), read("cran", "cran.qry"),
      qrelsFrom(read("cran", "cranqrel"), (c) => (Number(c[2]) > 0 ? [c[0]!, c[1]!] : undefined)), 0.365, true),
    smartSet("CISI", read("cisi", "CISI.ALL"), read("cisi", "CISI.QRY"), qrelsFrom(read("cisi", "CISI.REL"), (c) => [c[0]!, c[1]!]), 0.281),
    smartSet("MED", read("med", "MED.ALL"), read("med", "MED.QRY"), qrelsFrom(read("med", "MED.REL"), (c) => [c[0]!, c[2]!]), 0.679),
    smartSet("ADI", read("adi", "ADI.ALL"), read("adi", "ADI.QRY"), qrelsFrom(read("adi", "ADI.REL"), (c) => [c[0]!, c[1]!]), 0.428),
  ];
}

export function loadPubmedQa(): { docs: EvalDoc[]; queries: Array<{ id: string; text: string }> } {
  const raw = JSON.parse(readFileSync(join(DATASETS, "pubmedqa", "ori_pqal.json"), "utf8")) as Record<string, { QUESTION: string; CONTEXTS: string[] }>;
  const docs: EvalDoc[] = [];
  const queries: Array<{ id: string; text: string }> = [];
  for (const [pmid, r] of Object.entries(raw)) {
    docs.push({ id: pmid, title: "", text: r.CONTEXTS.join("\n") });
    queries.push({ id: pmid, text: r.QUESTION });
  }
  return { docs, queries };
}
