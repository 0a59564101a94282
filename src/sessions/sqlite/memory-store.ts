import { randomUUID } from "node:crypto";
import type { SqliteDb } from "../../data/index.js";
import { contentWords } from "../terms.js";
import type { MemoryFact, MemoryStore, ScoredFact } from "../types.js";
import { applyMemorySchema } from "./schema.js";

export interface SqliteMemoryStoreOptions {
  /** Facts kept per end user; the oldest are pruned past it. */
  maxFactsPerUser?: number;
}

export const DEFAULT_MAX_FACTS_PER_USER = 1_000;
/** Query terms beyond this are ignored (keeps hostile queries cheap). */
const MAX_QUERY_TERMS = 16;

interface FactRow {
  rid: number;
  id: string;
  text: string;
  tags: string;
  created_at: number;
}

export class SqliteMemoryStore implements MemoryStore {
  private readonly maxFacts: number;
  private readonly stmts;

  constructor(private readonly db: SqliteDb, opts: SqliteMemoryStoreOptions = {}) {
    this.maxFacts = Math.max(1, opts.maxFactsPerUser ?? DEFAULT_MAX_FACTS_PER_USER);
    applyMemorySchema(db);
    this.stmts = {
      insert: db.prepare("INSERT INTO memory_facts (id, tenant, user_id, text, tags, created_at) VALUES (?, ?, ?, ?, ?, ?)"),
      prune: db.prepare(
        `DELETE FROM memory_facts WHERE tenant = ? AND user_id = ? AND rid NOT IN
           (SELECT rid FROM memory_facts WHERE tenant = ? AND user_id = ? ORDER BY created_at DESC, rid DESC LIMIT ?)`,
      ),
      count: db.prepare("SELECT COUNT(*) AS n FROM memory_facts WHERE tenant = ? AND user_id = ?"),
      list: db.prepare(
        "SELECT rid, id, text, tags, created_at FROM memory_facts WHERE tenant = ? AND user_id = ? ORDER BY created_at DESC, rid DESC",
      ),
      delete: db.prepare("DELETE FROM memory_facts WHERE tenant = ? AND user_id = ? AND id = ?"),
      // bm25 ranks candidates; the owner filter is applied on the joined row.
      search: db.prepare(
        `SELECT f.rid, f.id, f.text, f.tags, f.created_at, bm25(memory_facts_fts) AS rank
           FROM memory_facts_fts JOIN memory_facts f ON f.rid = memory_facts_fts.rowid
          WHERE memory_facts_fts MATCH ? AND f.tenant = ? AND f.user_id = ?
          ORDER BY rank LIMIT ?`,
      ),
      termHits: db.prepare(
        "SELECT rowid AS rid FROM memory_facts_fts WHERE memory_facts_fts MATCH ? AND rowid IN (SELECT value FROM json_each(?))",
      ),
    };
  }

  async add(tenant: string, user: string, fact: { text: string; tags?: string[] }): Promise<MemoryFact> {
    const out: MemoryFact = {
      id: "mem_" + randomUUID().replaceAll("-", ""),
      text: fact.text,
      tags: [...new Set(fact.tags ?? [])],
      createdAt: Date.now(),
    };
    this.db.transaction(() => {
      this.stmts.insert.run(out.id, tenant, user, out.text, JSON.stringify(out.tags), out.createdAt);
      const { n } = this.stmts.count.get(tenant, user) as { n: number };
      if (n > this.maxFacts) this.stmts.prune.run(tenant, user, tenant, user, this.maxFacts);
    }).immediate();
    return out;
  }

  async list(tenant: string, user: string): Promise<MemoryFact[]> {
    return (this.stmts.list.all(tenant, user) as FactRow[]).map(toFact);
  }

  async delete(tenant: string, user: string, id: string): Promise<boolean> {
    return this.stmts.delete.run(tenant, user, id).changes > 0;
  }

  /**
   * bm25 orders the candidates, but its magnitude depends on corpus size (IDF
   * collapses to ~0 with a handful of facts), so it cannot carry a fixed
   * threshold. The score is instead the share of query terms the fact contains,
   * as matched by FTS5 itself (so porter stemming applies): 1 = all of them.
   */
  async search(tenant: string, user: string, query: string, k: number): Promise<ScoredFact[]> {
    const terms = contentWords(query).slice(0, MAX_QUERY_TERMS);
    if (terms.length === 0 || k <= 0) return [];
    // Every term is letters/digits only and double-quoted: a string, never FTS syntax.
    const quoted = terms.map((t) => `"${t}"`);
    const limit = Math.max(k * 4, 50);
    const rows = this.stmts.search.all(quoted.join(" OR "), tenant, user, limit) as Array<FactRow & { rank: number }>;
    if (rows.length === 0) return [];
    const ids = JSON.stringify(rows.map((r) => r.rid));
    const hits = new Map<number, number>();
    for (const q of quoted) {
      for (const { rid } of this.stmts.termHits.all(q, ids) as Array<{ rid: number }>) hits.set(rid, (hits.get(rid) ?? 0) + 1);
    }
    return rows
      .map((r, order) => ({ fact: toFact(r), score: Math.min(1, (hits.get(r.rid) ?? 0) / terms.length), order }))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(0, k)
      .map(({ fact, score }) => ({ fact, score }));
  }
}

function toFact(r: FactRow): MemoryFact {
  return { id: r.id, text: r.text, tags: JSON.parse(r.tags) as string[], createdAt: r.created_at };
}
