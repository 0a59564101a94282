import { randomUUID } from "node:crypto";
import { pgQuery, withTransaction, type PgPool } from "../../data/postgres/pool.js";
import { DEFAULT_MAX_FACTS_PER_USER } from "../sqlite/memory-store.js";
import { contentWords } from "../terms.js";
import type { MemoryFact, MemoryStore, ScoredFact } from "../types.js";

export interface PgMemoryStoreOptions {
  /** Facts kept per end user; the oldest are pruned past it. */
  maxFactsPerUser?: number;
}

/** Query terms beyond this are ignored (keeps hostile queries cheap); same bound as the SQLite store. */
const MAX_QUERY_TERMS = 16;

interface FactRow {
  id: string;
  text: string;
  tags: string;
  created_at: string | number;
}

// Each query word becomes its own plainto_tsquery: plain text in, never
// tsquery syntax, so no input can raise a syntax error. Words PostgreSQL
// treats as stopwords yield an empty query and simply never match.
// Candidates match any word (an OR of the per-word queries, which the GIN
// index on tsv serves), ranked by ts_rank; the score is the share of query
// words each candidate contains, as in the SQLite store.
const SEARCH = `
  WITH terms AS (
    SELECT plainto_tsquery('english', t) AS q FROM unnest($3::text[]) AS u(t)
  ), live AS (
    SELECT q FROM terms WHERE numnode(q) > 0
  ), anyq AS (
    SELECT string_agg('(' || q::text || ')', ' | ')::tsquery AS q FROM live
  ), candidates AS (
    SELECT f.rid, f.id, f.text, f.tags, f.created_at, f.tsv, ts_rank(f.tsv, anyq.q) AS rank
      FROM memory_facts f, anyq
     WHERE f.tenant = $1 AND f.user_id = $2 AND f.tsv @@ anyq.q
     ORDER BY rank DESC, f.rid
     LIMIT $4
  )
  SELECT c.id, c.text, c.tags, c.created_at,
         (SELECT COUNT(*) FROM live WHERE c.tsv @@ live.q)::int AS hits
    FROM candidates c
   ORDER BY hits DESC, c.rank DESC, c.rid
   LIMIT $5`;

/** Long-term memory facts in `memory_facts` (see PG_MIGRATIONS), searched with PostgreSQL full-text search. */
export class PgMemoryStore implements MemoryStore {
  private readonly maxFacts: number;

  constructor(private readonly pool: PgPool, opts: PgMemoryStoreOptions = {}) {
    this.maxFacts = Math.max(1, opts.maxFactsPerUser ?? DEFAULT_MAX_FACTS_PER_USER);
  }

  async add(tenant: string, user: string, fact: { text: string; tags?: string[] }): Promise<MemoryFact> {
    const out: MemoryFact = {
      id: "mem_" + randomUUID().replaceAll("-", ""),
      text: fact.text,
      tags: [...new Set(fact.tags ?? [])],
      createdAt: Date.now(),
    };
    await withTransaction(this.pool, async (client) => {
      await client.query("INSERT INTO memory_facts (id, tenant, user_id, text, tags, created_at) VALUES ($1, $2, $3, $4, $5, $6)", [
        out.id,
        tenant,
        user,
        out.text,
        JSON.stringify(out.tags),
        out.createdAt,
      ]);
      await client.query(
        `DELETE FROM memory_facts WHERE rid IN
           (SELECT rid FROM memory_facts WHERE tenant = $1 AND user_id = $2 ORDER BY created_at DESC, rid DESC OFFSET $3)`,
        [tenant, user, this.maxFacts],
      );
    });
    return out;
  }

  async list(tenant: string, user: string): Promise<MemoryFact[]> {
    const { rows } = await pgQuery<FactRow>(
      this.pool,
      "SELECT id, text, tags, created_at FROM memory_facts WHERE tenant = $1 AND user_id = $2 ORDER BY created_at DESC, rid DESC",
      [tenant, user],
    );
    return rows.map(toFact);
  }

  async delete(tenant: string, user: string, id: string): Promise<boolean> {
    const res = await pgQuery(this.pool, "DELETE FROM memory_facts WHERE tenant = $1 AND user_id = $2 AND id = $3", [tenant, user, id]);
    return (res.rowCount ?? 0) > 0;
  }

  async search(tenant: string, user: string, query: string, k: number): Promise<ScoredFact[]> {
    const terms = contentWords(query).slice(0, MAX_QUERY_TERMS);
    if (terms.length === 0 || k <= 0) return [];
    const take = Math.min(Math.floor(k), 10_000);
    const limit = Math.max(take * 4, 50);
    const { rows } = await pgQuery<FactRow & { hits: number }>(this.pool, SEARCH, [tenant, user, terms, limit, take]);
    return rows.map((r) => ({ fact: toFact(r), score: Math.min(1, r.hits / terms.length) }));
  }
}

function toFact(r: FactRow): MemoryFact {
  return { id: r.id, text: r.text, tags: JSON.parse(r.tags) as string[], createdAt: Number(r.created_at) };
}
