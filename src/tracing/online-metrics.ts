// Reference-free metrics of one live pipeline answer, from the answer and its
// `stratum` extension alone (no expected answer): groundedness, abstention,
// citation count, answer length, and JSON validity when JSON was asked for.
import type { OnlineEvalMetric } from "./online-eval.js";
import { groundedness, jsonValid } from "../evals/index.js";
import { contentText, type ChatCompletion, type ChatRequest } from "../protocol/openai.js";

interface Ext {
  citations?: Array<{ text?: string }>;
  grounding?: { score?: number };
  retrieval?: { answered_from_documents?: boolean };
}

/**
 * The scores that measure quality, higher being better. The others describe an
 * answer (its length, citation count, whether it abstained) without ranking it,
 * so a comparison of versions (the canary) must not read them as better or worse.
 */
export const QUALITY_SCORES: ReadonlySet<string> = new Set<OnlineEvalMetric>(["groundedness", "json_valid"]);

export function scoreAnswer(request: ChatRequest, completion: ChatCompletion, metrics: readonly OnlineEvalMetric[]): Record<string, number> {
  const ext = (completion.stratum ?? {}) as Ext;
  const choice = completion.choices[0];
  const text = contentText(choice?.message.content ?? "");
  const citations = Array.isArray(ext.citations) ? ext.citations : [];
  const abstained = ext.retrieval?.answered_from_documents === false || choice?.finish_reason === "content_filter";
  const out: Record<string, number> = {};
  for (const m of metrics) {
    switch (m) {
      case "groundedness": {
        if (abstained) break; // nothing was claimed
        // The pipeline's own check (against every retrieved passage) when it ran; else the cited passages.
        const g = typeof ext.grounding?.score === "number" ? ext.grounding.score : groundedness(text, citations);
        if (g !== undefined) out.groundedness = g;
        break;
      }
      case "abstained":
        out.abstained = abstained ? 1 : 0;
        break;
      case "citations":
        out.citations = citations.length;
        break;
      case "answer_length":
        out.answer_length = text.length;
        break;
      case "json_valid": {
        const t = request.response_format?.type;
        if (t === "json_object" || t === "json_schema") out.json_valid = jsonValid(text);
        break;
      }
    }
  }
  return out;
}
