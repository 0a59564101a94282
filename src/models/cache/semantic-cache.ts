// Semantic response cache: a request whose last user message means nearly the
// same as an earlier one's (cosine similarity of their embeddings at least the
// threshold), with everything else equal, gets the earlier answer. Only the
// last user turn is matched by meaning; the rest (tenant, model, system prompt
// and earlier turns, sampling parameters) is matched exactly, hashed into the
// entry's partition, so a different prompt or conversation never shares
// answers. Requests with tools are never matched: a tool call's arguments
// depend on the exact words.
import { unitVector } from "../../core/unit-vector.js";
import type { SemanticCacheStore } from "../../data/types.js";
import { contentText, type ChatCompletion, type ChatRequest } from "../../protocol/openai.js";
import { requestHash } from "./response-cache.js";

/** What a request is looked up and filed under. */
export interface SemanticProbe {
  partition: string;
  /** The last user message: the part matched by meaning. */
  text: string;
}

export interface SemanticCacheOptions {
  /** Least cosine similarity of a hit. */
  threshold: number;
  ttlMs: number;
  /** Requests with temperature above this are not cached (as for the exact cache). */
  maxTemperature: number;
}

/** Embeds one text with the configured embedding model. */
export type EmbedText = (text: string, signal: AbortSignal) => Promise<readonly number[]>;

export class SemanticCache {
  constructor(
    private readonly store: SemanticCacheStore<ChatCompletion>,
    private readonly embed: EmbedText,
    private readonly opts: SemanticCacheOptions,
  ) {}

  /** The probe of a request, or undefined when it must not be matched by meaning. */
  probeFor(tenant: string, alias: string, req: ChatRequest): SemanticProbe | undefined {
    if (req.tools?.length || (req.temperature ?? 1) > this.opts.maxTemperature) return undefined;
    const last = req.messages[req.messages.length - 1];
    if (last?.role !== "user") return undefined;
    const text = contentText(last.content).trim();
    if (!text) return undefined;
    return { partition: `${tenant}:${requestHash(alias, req, req.messages.slice(0, -1))}`, text };
  }

  /** The probe's text as a unit vector. */
  async vectorOf(probe: SemanticProbe, signal: AbortSignal): Promise<Float32Array> {
    return unitVector(await this.embed(probe.text, signal));
  }

  async nearest(probe: SemanticProbe, vector: Float32Array): Promise<ChatCompletion | undefined> {
    return (await this.store.nearest(probe.partition, vector, this.opts.threshold))?.value;
  }

  add(probe: SemanticProbe, vector: Float32Array, answer: ChatCompletion): Promise<void> {
    return this.store.add(probe.partition, vector, answer, this.opts.ttlMs);
  }
}
