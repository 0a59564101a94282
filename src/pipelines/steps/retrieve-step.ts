// retrieve: search the collection for the query; passages carrying
// instructions for the model are dropped by the retrieval guardrail.
import type { StepOf } from "../../config/pipeline-steps.js";
import { round4, searchOrEmpty } from "../answers.js";
import type { StepHandler } from "./types.js";

export const retrieveStep: StepHandler<StepOf<"retrieve">> = async (step, st, env, signal) => {
  const r = env.cfg.retrieval;
  const collection = step.collection ?? env.cfg.collection;
  const found = await searchOrEmpty(env.search, {
    tenant: st.ctx.tenant,
    collection,
    query: st.query,
    k: step.k ?? r.k,
    mode: step.mode ?? r.mode,
    mmr: r.mmr === false ? false : { lambda: r.mmr },
    ...(st.filter ? { filter: st.filter } : {}),
  });
  signal.throwIfAborted();
  const keep = st.guard ? st.guard.passages(found.hits.map((h) => h.chunk.text)) : undefined;
  st.retrieval = keep && keep.length < found.hits.length ? { ...found, hits: keep.map((i) => found.hits[i]!) } : found;
  const confidence = round4(st.retrieval.confidence);
  return { vars: { confidence, hits: st.retrieval.hits.length }, detail: { collection, query: st.query, confidence, hits: st.retrieval.hits.length } };
};
