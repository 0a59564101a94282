// The RAG pipeline served as a model: input processing → conversation
// (session history, follow-up condensing) → retrieval → versioned prompt with
// the passages → context-window fit → the model route (router: fallback,
// retries, caching) → output processing (citations in the text and as data).
import type { PipelineConfig } from "../config/schema.js";
import { isStratumError, StratumError } from "../core/errors.js";
import { ChunkAccumulator, completionToChunks } from "../protocol/chunks.js";
import { contentText, type ChatCompletion, type ChatCompletionChunk, type ChatMessage, type ChatRequest } from "../protocol/openai.js";
import { EXTRACTIVE_ALIAS, type ModelService, type Served } from "../models/index.js";
import { groundingScore, type GroundingResult, type GuardrailRun, type Guardrails } from "../safety/index.js";
import type { SearchRequest, SearchResult } from "../retrieval/types.js";
import { condenseQuery, fitContext, recallMemory, type MemoryStore } from "../sessions/index.js";
import type { Conversations } from "./conversations.js";
import { prepareTurn } from "./input.js";
import { citationsFor, formatPassages } from "./passages.js";
import { promptRef, renderPrompt, type PromptRef, type PromptTemplate } from "./prompt-template.js";
import { PipelineRequestExtSchema } from "../protocol/stratum.js";
import type { Pipeline, PipelineTurnSignals, TurnContext } from "./types.js";
import { ToolLoop, type ApprovalStore, type ToolLoopResult, type ToolRegistry, type ToolSource } from "../tools/index.js";
import { buildToolRegistry, decodeRunId, encodeRunId, pendingText, type ResumeSummary } from "./pipeline-tools.js";
import type { Usage } from "../protocol/openai.js";
import { recordedSpan } from "../core/trace-context.js";
import { stage } from "./stage-span.js";

import { abstention, guardOutput, NOT_IN_DOCUMENTS, replayCompletion as replay, round4 as round, searchOrEmpty, UNGROUNDED, WITHHELD, withheld, withStricterInstructions } from "./answers.js";

export { NOT_IN_DOCUMENTS, WITHHELD };

export interface RagPipelineDeps {
  models: ModelService;
  search(req: SearchRequest): Promise<SearchResult>;
  conversations: Conversations;
  memory?: MemoryStore;
  /** This pipeline's guardrails (none when absent). */
  guardrails?: Guardrails;
  /** Where suspended tool runs wait for a decision (needed when the pipeline has `tools:`). */
  approvals?: ApprovalStore;
  /** Tools discovered at run time (the pipeline's MCP servers), added to its registry as they are listed. */
  toolSources?: readonly ToolSource[];
  /** Told about every answered turn (drift monitoring), off the response path. */
  onTurn?: (t: PipelineTurnSignals) => void;
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
  guard: GuardrailRun | undefined;
  /** Grounding of the final answer (when the check is on). */
  grounding?: GroundingResult;
}

export class RagPipeline implements Pipeline {
  readonly name: string;
  private readonly template: PromptTemplate;
  private readonly prompt: PromptRef;
  private readonly registry: ToolRegistry | undefined;

  constructor(
    private readonly cfg: PipelineConfig,
    private readonly d: RagPipelineDeps,
  ) {
    this.name = cfg.name;
    this.template = { name: cfg.name, version: cfg.prompt.version, text: cfg.prompt.system };
    this.prompt = promptRef(this.template);
    this.registry = cfg.tools ? buildToolRegistry(cfg.tools, { collection: cfg.collection, k: cfg.retrieval.k, search: (r) => this.retrieve(r), ...(d.toolSources ? { sources: d.toolSources } : {}) }) : undefined;
  }

  /** Tools run when configured and the route is a language model (the extractive route cannot call them). */
  private usesTools(): boolean {
    return Boolean(this.registry && this.cfg.tools && this.d.approvals && this.d.models.isGenerative(this.cfg.route));
  }

  /** A tool loop whose model calls go through the route with `base`'s parameters; usage and the last answer are collected. */
  private toolLoop(ctx: TurnContext, base: ChatRequest, acc: LoopAcc): ToolLoop {
    const t = this.cfg.tools!;
    return new ToolLoop({
      registry: this.registry!,
      store: this.d.approvals!,
      budgets: { maxSteps: t.budgets.maxSteps, maxMs: t.budgets.maxMs },
      approvalThreshold: t.approvalThreshold,
      approvalTtlMs: t.approvalTimeoutSeconds * 1000,
      complete: async (messages, tools, { signal }) => {
        const served = await this.d.models.complete(this.cfg.route, { ...base, model: this.cfg.route, messages, tools }, { ...ctx, signal });
        acc.last = served;
        const u = served.result.usage;
        if (u) {
          acc.usage.prompt_tokens += u.prompt_tokens;
          acc.usage.completion_tokens += u.completion_tokens;
          acc.usage.total_tokens += u.total_tokens;
        }
        return { message: served.result.choices[0]?.message ?? { role: "assistant", content: "" } };
      },
    });
  }

  /** The tool-loop path of `complete`: completed → the usual output side; pending → the approval; failed → an error. */
  private async completeWithTools(plan: Plan, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const acc: LoopAcc = { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
    const runId = encodeRunId({ pipeline: this.name, ...(ctx.sessionId ? { sessionId: ctx.sessionId } : {}), ...(ctx.user ? { user: ctx.user } : {}) });
    const out = await stage(ctx, "answer", (_span, inner) => this.toolLoop(inner, plan.request, acc).run({ tenant: ctx.tenant, messages: plan.request.messages, runId, signal: ctx.signal, ...(inner.trace ? { trace: inner.trace } : {}) }), { "stratum.route": this.cfg.route, "stratum.tools": true });
    const base: Served<ChatCompletion> = acc.last ?? { result: blank(this.name), servedBy: this.name, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" };
    if (out.status === "failed") throw loopFailed(out);
    if (out.status === "pending") {
      const content = pendingText(out.tool, out.approvalId);
      const c: ChatCompletion = { ...base.result, model: this.name, choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop", logprobs: null }], usage: acc.usage };
      const result = this.withExt(c, plan, ctx);
      result.stratum = { ...result.stratum, approval: { id: out.approvalId, status: "pending", tool: out.tool, expires_at: Math.floor(out.expiresAt / 1000) }, tools: { run_id: out.runId } };
      await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content }]);
      return { ...base, result };
    }
    const answer: ChatCompletion = {
      ...base.result,
      choices: [{ index: 0, message: { role: "assistant", content: out.message.content ?? "" }, finish_reason: "stop", logprobs: null }],
      usage: acc.usage,
    };
    const served = await this.finalAnswer({ ...base, result: answer }, plan, ctx);
    const result = this.withExt(served.result, plan, ctx);
    result.stratum = { ...result.stratum, tools: { run_id: out.runId, steps: out.usage.steps, calls: out.toolResults.map((r) => ({ name: r.name, ok: r.ok })) } };
    const message = result.choices[0]?.message;
    if (message) await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: message.content ?? "" }]);
    return { ...served, result };
  }

  /**
   * Continues a suspended run of this pipeline once its approval is decided
   * (or expired): the final answer goes through the output guardrails and is
   * appended to the run's session.
   */
  async resumeApproval(approvalId: string, runId: string, tenant: string, signal: AbortSignal): Promise<ResumeSummary> {
    if (!this.registry || !this.cfg.tools || !this.d.approvals) throw new StratumError("InvalidRequest", `pipeline "${this.name}" has no tools`, { code: "not_resumable" });
    const origin = decodeRunId(runId);
    const ctx: TurnContext = {
      tenant,
      signal,
      requestId: `approval-${approvalId}`,
      noCache: true,
      ...(origin?.sessionId ? { sessionId: origin.sessionId } : {}),
      ...(origin?.user ? { user: origin.user } : {}),
    };
    const acc: LoopAcc = { usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } };
    let out: ToolLoopResult;
    try {
      out = await this.toolLoop(ctx, { model: this.cfg.route, messages: [] }, acc).resume(approvalId, { tenant, signal });
    } catch (e) {
      if (isStratumError(e) && e.code === "already_resumed") return { status: "already_resumed" };
      throw e;
    }
    if (out.status === "failed") return { status: "failed", message: loopFailed(out).message };
    if (out.status === "pending") {
      const message = pendingText(out.tool, out.approvalId);
      await this.d.conversations.append(ctx, [{ role: "assistant", content: message }]);
      return { status: "pending", message, approval: { id: out.approvalId, status: "pending", tool: out.tool, expires_at: Math.floor(out.expiresAt / 1000) } };
    }
    let message = contentText(out.message.content ?? "");
    const guard = this.d.guardrails?.begin();
    if (guard) {
      try {
        message = guard.output(message);
      } catch (e) {
        if (!isStratumError(e) || e.kind !== "GuardrailBlocked") throw e;
        message = WITHHELD;
      }
    }
    await this.d.conversations.append(ctx, [{ role: "assistant", content: message }]);
    return { status: "completed", message };
  }

  async complete(req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const plan = await this.plan(req, ctx);
    // With tools the model may search or act itself: no abstention on weak retrieval.
    if (this.usesTools()) return this.completeWithTools({ ...plan, abstain: false }, ctx);
    if (plan.abstain) {
      const result = this.withExt(abstention(this.name), plan, ctx);
      await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: NOT_IN_DOCUMENTS }]);
      return { result, servedBy: this.name, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" };
    }
    const answered = await stage(ctx, "answer", (_span, inner) => this.d.models.complete(this.cfg.route, plan.request, inner), { "stratum.route": this.cfg.route });
    const served = await this.finalAnswer(answered, plan, ctx);
    const result = this.withExt(served.result, plan, ctx);
    const message = result.choices[0]?.message;
    if (message) await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: message.content ?? "" }]);
    return { ...served, result };
  }

  /**
   * The route's whole answer through the output side: a prompt leak is
   * withheld first (no grounding fallback may replace the evidence), then the
   * grounding check and its action, then the output guardrails.
   */
  private async finalAnswer(served: Served<ChatCompletion>, plan: Plan, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    // A copy: a cached answer object is shared with the cache.
    const own = { ...served.result, model: this.name };
    // Decisions outside a stage go to the pipeline's own span (the request's root).
    if (plan.guard) plan.guard.traceTo = recordedSpan(ctx.trace);
    if (plan.guard?.canaryLeaked(contentText(own.choices[0]?.message.content ?? ""))) return { ...served, result: withheld(own) };
    const grounded = this.cfg.guardrails.output.grounding && plan.guard
      ? await stage(ctx, "grounding", async (span, inner) => {
          plan.guard!.traceTo = span;
          const g = await this.groundedOrElse({ ...served, result: own }, plan, inner);
          if (plan.grounding) span.setAttributes({ "stratum.grounding.score": round(plan.grounding.score), "stratum.grounding.supported": plan.grounding.supported, "stratum.grounding.sentences": plan.grounding.sentences });
          return g;
        })
      : { ...served, result: own };
    return stage(ctx, "output", (span) => {
      if (plan.guard) plan.guard.traceTo = span;
      const checked = this.checkOutput({ ...grounded.result, model: this.name }, plan);
      span.setAttribute("stratum.finish_reason", checked.choices[0]?.finish_reason ?? "");
      return { ...grounded, result: checked };
    });
  }

  /** Output guardrails on a whole answer: a block becomes a content_filter refusal; redactions and restores applied. */
  private checkOutput(c: ChatCompletion, plan: Plan): ChatCompletion {
    return guardOutput(c, plan.guard);
  }

  /**
   * The grounding check and its action: retry once with stricter instructions,
   * fall back to the extractive route, or refuse; `flag` only reports.
   */
  private async groundedOrElse(served: Served<ChatCompletion>, plan: Plan, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const rule = this.cfg.guardrails.output.grounding;
    if (!rule || !plan.guard) return served;
    const passages = plan.retrieval.hits.map((h) => h.chunk.text);
    const score = (c: ChatCompletion) => groundingScore(contentText(c.choices[0]?.message.content ?? ""), passages);
    plan.grounding = score(served.result);
    if (plan.grounding.score >= rule.threshold) return served;
    plan.guard.record({ guardrail: "grounding", stage: "output", action: rule.action === "flag" ? "flag" : "block", types: [rule.action], score: round(plan.grounding.score) });
    if (rule.action === "flag") return served;
    if (rule.action === "retry" || rule.action === "fallback") {
      const request = rule.action === "retry" ? withStricterInstructions(plan.request) : { ...plan.request, model: EXTRACTIVE_ALIAS };
      const again = await this.d.models.complete(rule.action === "retry" ? this.cfg.route : EXTRACTIVE_ALIAS, request, { ...ctx, noCache: true });
      const g = score(again.result);
      if (g.score >= rule.threshold || rule.action === "fallback") {
        plan.grounding = g;
        return again;
      }
    }
    const refused: ChatCompletion = { ...served.result, choices: [{ index: 0, message: { role: "assistant", content: UNGROUNDED }, finish_reason: "content_filter", logprobs: null }] };
    return { ...served, result: refused };
  }

  async stream(req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>> {
    if (this.usesTools()) {
      // The tool loop is not streamed: run it whole, then replay the final answer (or the approval) as chunks.
      const served = await this.complete(req, ctx);
      const includeUsage = req.stream_options?.include_usage === true;
      return { ...served, result: replay(served.result, includeUsage) };
    }
    const plan = await this.plan(req, ctx);
    if (plan.abstain) {
      const result = this.annotate(toStream(abstention(this.name)), plan, ctx);
      return { result, servedBy: this.name, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" };
    }
    const served = await stage(ctx, "answer", (_span, inner) => this.d.models.stream(this.cfg.route, plan.request, inner), { "stratum.route": this.cfg.route, "stratum.stream": true });
    return { ...served, result: this.annotate(served.result, plan, ctx) };
  }

  private async plan(req: ChatRequest, ctx: TurnContext): Promise<Plan> {
    const cfg = this.cfg;
    const turnIn = await stage(ctx, "input", () => prepareTurn(req.messages, cfg.input.maxTokens), { "stratum.pipeline": this.name, "stratum.messages": req.messages.length });
    const { system: clientSystem, earlier } = turnIn;
    const guard = this.d.guardrails?.begin();
    // Input guardrails see the question first: a block stops here; redaction hides values from retrieval and the model.
    const question = guard
      ? await stage(ctx, "guardrails", (span) => {
          guard.traceTo = span;
          return guard.input(turnIn.question);
        }, { "stratum.guardrail.stage": "input" })
      : turnIn.question;
    const ext = PipelineRequestExtSchema.parse(req.stratum ?? {});
    // With a stored conversation, the client sends only the new message.
    const stored = await this.d.conversations.load(ctx);
    const history = stored.messages.length > 0 ? stored.messages : earlier;
    const current: ChatMessage = { role: "user", content: question };

    const generative = this.d.models.isGenerative(cfg.route);
    const mode = cfg.retrieval.condense;
    const useLlm = mode === "llm" || (mode === "auto" && generative);
    const query = mode === "off" || history.length === 0 ? question : await stage(ctx, "condense", async (span, inner) => {
      const llm = useLlm ? this.llm(inner) : undefined;
      const q = await condenseQuery(history, question, { llm });
      span.setAttributes({ "stratum.condense.mode": llm ? "llm" : "rule", "stratum.condense.rewritten": q !== question });
      return q;
    });

    const { retrieval, abstain } = await stage(ctx, "retrieval", async (span) => {
      if (guard) guard.traceTo = span;
      const found = await this.retrieve({
        tenant: ctx.tenant,
        collection: cfg.collection,
        query,
        k: cfg.retrieval.k,
        mode: cfg.retrieval.mode,
        mmr: cfg.retrieval.mmr === false ? false : { lambda: cfg.retrieval.mmr },
        ...(ext.filter ? { filter: ext.filter } : {}),
      });
      // Passages carrying instructions for the model (indirect injection) are dropped or flagged.
      const keep = guard ? guard.passages(found.hits.map((h) => h.chunk.text)) : undefined;
      const retrieval = keep && keep.length < found.hits.length ? { ...found, hits: keep.map((i) => found.hits[i]!) } : found;
      const abstain = retrieval.hits.length === 0 || retrieval.confidence < cfg.retrieval.minConfidence;
      span.setAttributes({ "stratum.retrieval.collection": cfg.collection, "stratum.retrieval.hits": retrieval.hits.length, "stratum.retrieval.dropped": found.hits.length - retrieval.hits.length, "stratum.retrieval.confidence": Math.round(retrieval.confidence * 1e4) / 1e4, "stratum.retrieval.abstain": abstain });
      return { retrieval, abstain };
    });

    const fitted = await stage(ctx, "prompt", async (span, inner) => {
      const memory = cfg.memory && ctx.user && this.d.memory ? await recallMemory(this.d.memory, ctx.tenant, ctx.user, query) : "";
      const system: ChatMessage = {
        role: "system",
        content: [renderPrompt(this.template, { name: this.name, collection: cfg.collection, context: formatPassages(retrieval.hits), memory }), guard?.canaryInstruction ?? ""].filter(Boolean).join("\n\n"),
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
        ...(generative ? { summarize: this.llm(inner) } : {}),
      });
      // Persist a new summary only when it summarises stored turns (not turns the client sent).
      if (fitted.summary && fitted.summarized > 0 && stored.messages.length > 0) await this.d.conversations.summarize(ctx, stored, fitted.summary, fitted.summarized);
      span.setAttributes({ "stratum.prompt.name": this.prompt.name, "stratum.prompt.version": this.prompt.version, "stratum.context.tokens": fitted.tokens, "stratum.context.dropped": fitted.dropped, "stratum.context.summarized": fitted.summarized });
      return fitted;
    });

    const { stratum: _ext, ...rest } = req;
    return {
      request: { ...rest, model: cfg.route, messages: fitted.messages },
      question,
      query,
      retrieval,
      abstain,
      turn: [current],
      context: { dropped: fitted.dropped, summarized: fitted.summarized, tokens: fitted.tokens },
      guard,
    };
  }

  /** A tenant without the collection (yet) has no documents: the pipeline abstains rather than failing. */
  private retrieve(req: SearchRequest): Promise<SearchResult> {
    return searchOrEmpty(this.d.search, req);
  }

  /** One short call to the route (query rewriting, summaries). */
  private llm(ctx: TurnContext): (messages: ChatMessage[]) => Promise<string> {
    return async (messages) => {
      const served = await this.d.models.complete(this.cfg.route, { model: this.cfg.route, messages, temperature: 0, max_tokens: 256 }, { ...ctx, noCache: false });
      return contentText(served.result.choices[0]?.message.content ?? "");
    };
  }

  private ext(text: string, plan: Plan, ctx: TurnContext): Record<string, unknown> {
    this.observe(plan); // the extension is built once per answered turn, on every path
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
      ...(plan.guard ? { guardrails: plan.guard.decisions } : {}),
      ...(plan.grounding ? { grounding: { score: round(plan.grounding.score), supported: plan.grounding.supported, sentences: plan.grounding.sentences } } : {}),
      ...(ctx.sessionId ? { session_id: ctx.sessionId } : {}),
    };
  }

  /** Reports the turn's signals to drift monitoring after the current event-loop turn. */
  private observe(plan: Plan): void {
    const onTurn = this.d.onTurn;
    if (!onTurn) return;
    const turn = { pipeline: this.name, question: plan.question, confidence: plan.retrieval.confidence, abstained: plan.abstain, ...(plan.grounding ? { grounding: plan.grounding.score } : {}) };
    setImmediate(() => onTurn(turn));
  }

  private withExt(c: ChatCompletion, plan: Plan, ctx: TurnContext): ChatCompletion {
    const text = contentText(c.choices[0]?.message.content ?? "");
    return { ...c, stratum: { ...c.stratum, ...this.ext(text, plan, ctx) } };
  }

  /**
   * Pass chunks through renamed; attach the extension to the finishing chunk;
   * keep the turn once it completed. Output guardrails that can only refuse
   * (canary, moderation) check the text as it grows and cut the stream with a
   * content_filter finish; guardrails that rewrite text (redaction, restoring
   * the user's values) need the whole answer, so then the answer is collected
   * and replayed once checked.
   */
  private async *annotate(source: AsyncIterable<ChatCompletionChunk>, plan: Plan, ctx: TurnContext): AsyncGenerator<ChatCompletionChunk> {
    const guard = plan.guard;
    if (guard) guard.traceTo = recordedSpan(ctx.trace); // checks while streaming belong to the request, not a stage
    if (guard && (this.rewritesOutput() || this.cfg.guardrails.output.grounding)) {
      yield* this.checkedReplay(source, plan, ctx);
      return;
    }
    let text = "";
    let finished = false;
    for await (const chunk of source) {
      const out: ChatCompletionChunk = { ...chunk, model: this.name };
      const choice = chunk.choices[0];
      if (choice?.delta.content) {
        text += choice.delta.content;
        if (guard?.checksOutput) {
          try {
            guard.output(text);
          } catch (e) {
            if (!isStratumError(e) || e.kind !== "GuardrailBlocked") throw e;
            yield { ...out, choices: [{ index: 0, delta: {}, finish_reason: "content_filter" }], stratum: this.ext(text, plan, ctx) };
            return; // stops reading the upstream; the withheld turn is not kept
          }
        }
      }
      if (choice?.finish_reason) {
        finished = true;
        out.stratum = { ...chunk.stratum, ...this.ext(text, plan, ctx) };
      }
      yield out;
    }
    if (finished) await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: text }]);
  }

  private rewritesOutput(): boolean {
    const g = this.cfg.guardrails;
    return Boolean(g.output.pii || g.output.secrets || (g.restoreRedacted && g.input.pii?.action === "redact"));
  }

  /** Collect the streamed answer, run the same checks as for JSON, replay it as chunks. */
  private async *checkedReplay(source: AsyncIterable<ChatCompletionChunk>, plan: Plan, ctx: TurnContext): AsyncGenerator<ChatCompletionChunk> {
    const acc = new ChunkAccumulator();
    for await (const chunk of source) acc.push(chunk);
    if (!acc.finished) throw new StratumError("UpstreamProtocol", "the route's stream ended before the answer finished");
    const whole = acc.toCompletion(acc.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    const final = await this.finalAnswer({ result: whole, servedBy: this.cfg.route, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" }, plan, ctx);
    const result = this.withExt(final.result, plan, ctx);
    const chunks = completionToChunks(result, acc.usage !== undefined);
    for (const c of chunks) {
      if (c.choices[0]?.finish_reason) c.stratum = result.stratum;
      yield c;
    }
    await this.d.conversations.append(ctx, [...plan.turn, { role: "assistant", content: result.choices[0]?.message.content ?? "" }]);
  }
}

interface LoopAcc {
  usage: Usage;
  last?: Served<ChatCompletion>;
}

function loopFailed(out: Extract<ToolLoopResult, { status: "failed" }>): StratumError {
  return new StratumError("UpstreamError", `the tool loop stopped before a final answer: ${out.error.message}`, { code: "tool_budget_exceeded" });
}

function blank(model: string): ChatCompletion {
  return {
    id: `chatcmpl-tools-${Date.now().toString(36)}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

async function* toStream(c: ChatCompletion): AsyncGenerator<ChatCompletionChunk> {
  yield* completionToChunks(c, true);
}
