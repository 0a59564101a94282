// The RAG pipeline served as a model: input processing → conversation
// (session history, follow-up condensing) → retrieval → versioned prompt with
// the passages → context-window fit → the model route (router: fallback,
// retries, caching) → output processing (citations in the text and as data).
import type { PipelineConfig } from "../config/schema.js";
import { isStratumError } from "../core/errors.js";
import { completionToChunks } from "../protocol/chunks.js";
import { contentText, type ChatCompletion, type ChatCompletionChunk, type ChatMessage, type ChatRequest } from "../protocol/openai.js";
import type { ModelService, Served } from "../models/index.js";
import type { SearchRequest, SearchResult } from "../retrieval/types.js";
import { condenseQuery, fitContext, recallMemory, type MemoryStore } from "../sessions/index.js";
import type { Conversations } from "./conversations.js";
import { prepareTurn } from "./input.js";
import { citationsFor, formatPassages } from "./passages.js";
import { promptRef, renderPrompt, type PromptRef, type PromptTemplate } from "./prompt-template.js";
import { PipelineRequestExtSchema } from "../protocol/stratum.js";
import type { Pipeline, TurnContext } from "./types.js";

export const NOT_IN_DOCUMENTS = "The documents do not answer this question.";

export interface RagPipelineDeps {
  models: ModelService;
  search(req: SearchRequest): Promise<SearchResult>;
  conversations: Conversations;
  memory?: MemoryStore;
}

/** Everything decided before the model is called. */
interface Plan {
  request: ChatRequest;
  question: string;
  query: string;
  retrieval: SearchResult;
  /** Retrieval confidence below the threshold: answer "not in the documents" without calling the route. */
  abstain: boolean;
  turn: ChatMessage[];
  context: { dropped: number; summarized: number; tokens: number };
}

export class RagPipeline implements Pipeline {
  readonly name: string;
  private readonly template: PromptTemplate;
  private readonly prompt: PromptRef;

  constructor(
    private readonly cfg: PipelineConfig,
    private readonly d: RagPipelineDeps,
  ) {
    this.name = cfg.name;
    this.template = { name: cfg.name, version: cfg.prompt.version, text: cfg.prompt.system };
    this.prompt = promptRef(this.template);
  }

  async complete(req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const plan = await this.plan(req, ctx);
    if (plan.abstain) {
      const result = this.withExt(abstention(this.name), plan, ctx);
      await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: NOT_IN_DOCUMENTS }]);
      return { result, servedBy: this.name, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" };
    }
    const served = await this.d.models.complete(this.cfg.route, plan.request, ctx);
    // A copy: a cached answer object is shared with the cache.
    const result = this.withExt({ ...served.result, model: this.name }, plan, ctx);
    const message = result.choices[0]?.message;
    if (message) await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: message.content ?? "" }]);
    return { ...served, result };
  }

  async stream(req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>> {
    const plan = await this.plan(req, ctx);
    if (plan.abstain) {
      const result = this.annotate(toStream(abstention(this.name)), plan, ctx);
      return { result, servedBy: this.name, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" };
    }
    const served = await this.d.models.stream(this.cfg.route, plan.request, ctx);
    return { ...served, result: this.annotate(served.result, plan, ctx) };
  }

  private async plan(req: ChatRequest, ctx: TurnContext): Promise<Plan> {
    const cfg = this.cfg;
    const { system: clientSystem, earlier, question } = prepareTurn(req.messages, cfg.input.maxTokens);
    const ext = PipelineRequestExtSchema.parse(req.stratum ?? {});
    // With a stored conversation, the client sends only the new message.
    const stored = await this.d.conversations.load(ctx);
    const history = stored.messages.length > 0 ? stored.messages : earlier;
    const current: ChatMessage = { role: "user", content: question };

    const generative = this.d.models.isGenerative(cfg.route);
    const mode = cfg.retrieval.condense;
    const llm = (mode === "llm" || (mode === "auto" && generative)) ? this.llm(ctx) : undefined;
    const query = mode === "off" || history.length === 0 ? question : await condenseQuery(history, question, { llm });

    const retrieval = await this.retrieve({
      tenant: ctx.tenant,
      collection: cfg.collection,
      query,
      k: cfg.retrieval.k,
      mode: cfg.retrieval.mode,
      mmr: cfg.retrieval.mmr === false ? false : { lambda: cfg.retrieval.mmr },
      ...(ext.filter ? { filter: ext.filter } : {}),
    });
    const abstain = retrieval.hits.length === 0 || retrieval.confidence < cfg.retrieval.minConfidence;

    const memory = cfg.memory && ctx.user && this.d.memory ? await recallMemory(this.d.memory, ctx.tenant, ctx.user, query) : "";
    const system: ChatMessage = {
      role: "system",
      content: renderPrompt(this.template, { name: this.name, collection: cfg.collection, context: formatPassages(retrieval.hits), memory }),
    };
    // A language model reads the follow-up in its conversation; the extractive
    // route matches words, so it gets the standalone (condensed) query instead.
    const asked: ChatMessage = generative || query === question ? current : { role: "user", content: query };
    const maxOut = req.max_completion_tokens ?? req.max_tokens ?? cfg.context.reserveOutputTokens;
    const fitted = await fitContext({
      system: [system, ...clientSystem],
      history,
      current: [asked],
      ...(stored.summary ? { summary: stored.summary.text } : {}),
      contextTokens: cfg.context.maxTokens,
      reserveOutputTokens: Math.min(maxOut, cfg.context.reserveOutputTokens),
      strategy: cfg.context.strategy === "summarize" && generative ? "summarize" : "drop",
      ...(generative ? { summarize: this.llm(ctx) } : {}),
    });
    // Persist a new summary only when it summarises stored turns (not turns the client sent).
    if (fitted.summary && fitted.summarized > 0 && stored.messages.length > 0) await this.d.conversations.summarize(ctx, stored, fitted.summary, fitted.summarized);

    const { stratum: _ext, ...rest } = req;
    return {
      request: { ...rest, model: cfg.route, messages: fitted.messages },
      question,
      query,
      retrieval,
      abstain,
      turn: [current],
      context: { dropped: fitted.dropped, summarized: fitted.summarized, tokens: fitted.tokens },
    };
  }

  /** A tenant without the collection (yet) has no documents: the pipeline abstains rather than failing. */
  private async retrieve(req: SearchRequest): Promise<SearchResult> {
    try {
      return await this.d.search(req);
    } catch (e) {
      if (isStratumError(e) && e.kind === "NotFound") return { hits: [], confidence: 0, mode: req.mode ?? "hybrid", tookMs: 0 };
      throw e;
    }
  }

  /** One short call to the route (query rewriting, summaries). */
  private llm(ctx: TurnContext): (messages: ChatMessage[]) => Promise<string> {
    return async (messages) => {
      const served = await this.d.models.complete(this.cfg.route, { model: this.cfg.route, messages, temperature: 0, max_tokens: 256 }, { ...ctx, noCache: false });
      return contentText(served.result.choices[0]?.message.content ?? "");
    };
  }

  private ext(text: string, plan: Plan, ctx: TurnContext): Record<string, unknown> {
    return {
      pipeline: this.name,
      citations: plan.abstain ? [] : citationsFor(text, plan.retrieval.hits),
      retrieval: {
        collection: this.cfg.collection,
        query: plan.query,
        confidence: Math.round(plan.retrieval.confidence * 1e4) / 1e4,
        mode: plan.retrieval.mode,
        hits: plan.retrieval.hits.length,
        answered_from_documents: !plan.abstain,
      },
      prompt: this.prompt,
      context: plan.context,
      ...(ctx.sessionId ? { session_id: ctx.sessionId } : {}),
    };
  }

  private withExt(c: ChatCompletion, plan: Plan, ctx: TurnContext): ChatCompletion {
    const text = contentText(c.choices[0]?.message.content ?? "");
    return { ...c, stratum: { ...c.stratum, ...this.ext(text, plan, ctx) } };
  }

  /** Pass chunks through renamed; attach the extension to the finishing chunk; keep the turn once it completed. */
  private async *annotate(source: AsyncIterable<ChatCompletionChunk>, plan: Plan, ctx: TurnContext): AsyncGenerator<ChatCompletionChunk> {
    let text = "";
    let finished = false;
    for await (const chunk of source) {
      const out: ChatCompletionChunk = { ...chunk, model: this.name };
      const choice = chunk.choices[0];
      if (choice?.delta.content) text += choice.delta.content;
      if (choice?.finish_reason) {
        finished = true;
        out.stratum = { ...chunk.stratum, ...this.ext(text, plan, ctx) };
      }
      yield out;
    }
    if (finished) await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: text }]);
  }
}

let abstentions = 0;

function abstention(model: string): ChatCompletion {
  return {
    id: `chatcmpl-abstain-${Date.now().toString(36)}${(++abstentions).toString(36)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content: NOT_IN_DOCUMENTS }, finish_reason: "stop", logprobs: null }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

async function* toStream(c: ChatCompletion): AsyncGenerator<ChatCompletionChunk> {
  yield* completionToChunks(c, true);
}
