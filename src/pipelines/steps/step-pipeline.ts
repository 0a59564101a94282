// A pipeline declared as steps (`pipelines[].steps`): the turn is prepared as
// in RagPipeline (input checks, session history, input guardrails unless a
// guardrail step places them), the steps run (run-steps.ts), and the result is
// an answer through the output side (canary, output guardrails, citations) or
// an explicit abstention — never a half answer. The path taken is reported in
// `stratum.steps`. Streams run the steps, then stream the final answer.
import { StratumError } from "../../core/errors.js";
import type { Served } from "../../models/index.js";
import { contentText, type ChatCompletion, type ChatCompletionChunk, type ChatRequest } from "../../protocol/openai.js";
import { PipelineRequestExtSchema } from "../../protocol/stratum.js";
import type { Guardrails } from "../../safety/index.js";
import type { MemoryStore } from "../../sessions/index.js";
import type { SearchRequest, SearchResult } from "../../retrieval/types.js";
import { abstention, guardOutput, replayCompletion, round4, withheld } from "../answers.js";
import type { Conversations } from "../conversations.js";
import { prepareTurn } from "../input.js";
import { citationsFor } from "../passages.js";
import { promptRef } from "../prompt-template.js";
import type { Pipeline, PipelineTurnSignals, TurnContext } from "../types.js";
import { answerTemplate } from "./answer-step.js";
import { runSteps } from "./run-steps.js";
import type { RunState, StepEnv, StepsPipelineConfig } from "./types.js";
import { recordedSpan } from "../../core/trace-context.js";

export interface StepPipelineDeps {
  models: StepEnv["models"];
  search(req: SearchRequest): Promise<SearchResult>;
  conversations: Conversations;
  memory?: MemoryStore;
  guardrails?: Guardrails;
  /** Called off the response path with each turn's signals (drift monitoring). */
  onTurn?: (t: PipelineTurnSignals) => void;
}

export class StepPipeline implements Pipeline {
  readonly name: string;
  private readonly env: StepEnv;

  constructor(
    private readonly cfg: StepsPipelineConfig,
    private readonly d: StepPipelineDeps,
  ) {
    this.name = cfg.name;
    this.env = { name: cfg.name, cfg, models: d.models, search: d.search, conversations: d.conversations, ...(d.memory ? { memory: d.memory } : {}) };
  }

  async complete(req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const st = await this.start(req, ctx);
    await runSteps(st, this.env);
    const served = this.finish(st);
    const text = contentText(served.result.choices[0]?.message.content ?? "");
    await this.d.conversations.append(ctx, [{ role: "user", content: st.question }, { role: "assistant", content: text }]);
    return served;
  }

  async stream(req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>> {
    const served = await this.complete(req, ctx);
    return { ...served, result: replayCompletion(served.result, req.stream_options?.include_usage === true) };
  }

  /** The turn as RagPipeline prepares it; input guardrails run here unless a guardrail step runs them. */
  private async start(req: ChatRequest, ctx: TurnContext): Promise<RunState> {
    const turn = prepareTurn(req.messages, this.cfg.input.maxTokens);
    const guard = this.d.guardrails?.begin();
    if (guard) guard.traceTo = recordedSpan(ctx.trace); // decisions outside a step go to the request's span
    const question = guard && !this.cfg.steps.some((s) => s.type === "guardrail") ? guard.input(turn.question) : turn.question;
    const ext = PipelineRequestExtSchema.parse(req.stratum ?? {});
    const stored = await this.d.conversations.load(ctx);
    const { stratum: _ext, ...rest } = req;
    return {
      ctx,
      req: rest,
      question,
      query: question,
      history: stored.messages.length > 0 ? stored.messages : turn.earlier,
      stored,
      clientSystem: turn.system,
      filter: ext.filter,
      guard,
      answerRequests: new Map(),
      byStep: new Map(),
      byType: new Map(),
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      records: [],
    };
  }

  /** The run's answer through the output side, or its abstention; a run that produced neither is an error. */
  private finish(st: RunState): Served<ChatCompletion> {
    let served: Served<ChatCompletion>;
    let outcome: "answered" | "abstained" | "withheld";
    if (st.abstained) {
      served = { result: abstention(this.name, st.abstained.text), servedBy: this.name, deployment: undefined, priceKey: undefined, attempts: [], cache: "bypass" };
      outcome = "abstained";
    } else if (st.answer) {
      const own: ChatCompletion = { ...st.answer.served.result, model: this.name };
      const leaked = st.guard?.canaryLeaked(contentText(own.choices[0]?.message.content ?? ""));
      const checked = leaked ? withheld(own) : guardOutput(own, st.guard);
      served = { ...st.answer.served, result: checked };
      outcome = checked.choices[0]?.finish_reason === "content_filter" ? "withheld" : "answered";
    } else {
      throw new StratumError("UpstreamError", `the steps of pipeline "${this.name}" ended without an answer`, { code: "pipeline_incomplete" });
    }
    const result: ChatCompletion = { ...served.result, usage: { ...st.usage } };
    result.stratum = { ...result.stratum, ...this.ext(st, result, outcome) };
    this.observe(st, outcome);
    return { ...served, result };
  }

  private observe(st: RunState, outcome: string): void {
    const onTurn = this.d.onTurn;
    if (!onTurn) return;
    const turn: PipelineTurnSignals = { pipeline: this.name, question: st.question, confidence: st.retrieval?.confidence ?? 0, abstained: outcome === "abstained", ...(st.grounding ? { grounding: st.grounding.score } : {}) };
    setImmediate(() => onTurn(turn));
  }

  private ext(st: RunState, c: ChatCompletion, outcome: string): Record<string, unknown> {
    const text = contentText(c.choices[0]?.message.content ?? "");
    const hits = st.retrieval?.hits ?? [];
    const answerStep = st.answer && this.cfg.steps.find((s) => s.type === "answer" && s.id === st.answer!.by.split(":")[0]);
    return {
      pipeline: this.name,
      outcome,
      answered_by: st.abstained ? st.abstained.by : (st.answer?.by ?? null),
      citations: outcome === "answered" ? citationsFor(text, hits) : [],
      ...(st.retrieval
        ? { retrieval: { collection: this.cfg.collection, query: st.query, confidence: round4(st.retrieval.confidence), mode: st.retrieval.mode, hits: hits.length, answered_from_documents: outcome === "answered" } }
        : {}),
      ...(answerStep && answerStep.type === "answer" ? { prompt: promptRef(answerTemplate(answerStep, this.env)) } : {}),
      ...(st.label !== undefined ? { label: st.label } : {}),
      ...(st.context ? { context: st.context } : {}),
      ...(st.guard ? { guardrails: st.guard.decisions } : {}),
      ...(st.grounding ? { grounding: { score: round4(st.grounding.score), supported: st.grounding.supported, sentences: st.grounding.sentences } } : {}),
      steps: st.records,
      path: st.records.map((r) => r.id),
      ...(st.ctx.sessionId ? { session_id: st.ctx.sessionId } : {}),
    };
  }
}

