// Quality signals of a pipeline answer, read from its `stratum` extension
// (the same for RAG and step pipelines, JSON and streams): the grounding
// score and whether the answer declined (not in the documents, or refused).
import type { Metrics } from "../ops/metrics.js";

export function recordAnswerQuality(metrics: Metrics, ext: Record<string, unknown>, finishReason: string | null | undefined): void {
  const pipeline = typeof ext.pipeline === "string" ? ext.pipeline : "unknown";
  metrics.pipelineAnswers.inc({ pipeline });
  const grounding = (ext.grounding as { score?: unknown } | undefined)?.score;
  if (typeof grounding === "number") metrics.groundingScore.observe({ pipeline }, grounding);
  const retrieval = ext.retrieval as { answered_from_documents?: unknown } | undefined;
  if (retrieval?.answered_from_documents === false) metrics.abstentions.inc({ pipeline, reason: "not_in_documents" });
  else if (finishReason === "content_filter") metrics.abstentions.inc({ pipeline, reason: "refused" });
}
