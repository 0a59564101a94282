// The state one run of a step pipeline carries from step to step, what each
// step reports, and what a step handler may answer.
import type { PipelineConfig } from "../../config/schema.js";
import type { StepConfig, StepType } from "../../config/pipeline-steps.js";
import type { ModelService, Served } from "../../models/index.js";
import type { ChatCompletion, ChatMessage, ChatRequest, Usage } from "../../protocol/openai.js";
import type { MetadataFilter, SearchRequest, SearchResult } from "../../retrieval/types.js";
import type { GroundingResult, GuardrailRun } from "../../safety/index.js";
import type { MemoryStore, SessionHistory } from "../../sessions/index.js";
import type { Conversations } from "../conversations.js";
import type { TurnContext } from "../types.js";

/** A value a condition can read. */
export type Value = string | number | boolean;

export type StepsPipelineConfig = PipelineConfig & { steps: StepConfig[] };

/** What the pipeline gives its steps. */
export interface StepEnv {
  name: string;
  cfg: StepsPipelineConfig;
  models: ModelService;
  search(req: SearchRequest): Promise<SearchResult>;
  conversations: Conversations;
  memory?: MemoryStore;
}

/** The answer produced so far and how to ask for it again (a stricter retry, the extractive fallback). */
export interface DraftAnswer {
  served: Served<ChatCompletion>;
  /** The step that produced it (or `<step>:extractive` for a fallback). */
  by: string;
  route: string;
  request: ChatRequest;
}

export type StepOutcome = "ok" | "skipped" | "failed" | "timeout";

/** One executed step, as reported in `stratum.steps`. */
export interface StepRecord {
  id: string;
  type: StepType;
  outcome: StepOutcome;
  duration_ms: number;
  /** The fallback taken when the step failed or ran over budget. */
  fallback?: string;
  error?: string;
  /** Where the run went next (a step id, "end", "abstain"). */
  next?: string;
  /** Step-specific facts: the rewritten query, the label, the branch decision, the grounding score... */
  [detail: string]: unknown;
}

export interface RunState {
  /** The turn's context; while a step runs, its trace points at the step's span (run-steps.ts). */
  ctx: TurnContext;
  /** The client's request without the `stratum` extension. */
  readonly req: ChatRequest;
  /** The question (redacted once input guardrails ran). */
  question: string;
  /** What retrieval searches for (the question, or its rewrite). */
  query: string;
  readonly history: ChatMessage[];
  readonly stored: SessionHistory;
  readonly clientSystem: ChatMessage[];
  readonly filter: MetadataFilter | undefined;
  readonly guard: GuardrailRun | undefined;
  retrieval?: SearchResult;
  label?: string;
  answer?: DraftAnswer;
  /** The request each answer step sent (a verify step may retry one of them). */
  readonly answerRequests: Map<string, { route: string; request: ChatRequest }>;
  grounding?: GroundingResult;
  /** Set by an abstain step or fallback: the run ends with this explicit abstention. */
  abstained?: { text: string; by: string };
  /** Condition variables: by step id, and by step type (the latest step of that type). */
  readonly byStep: Map<string, Record<string, Value>>;
  readonly byType: Map<StepType, Record<string, Value>>;
  context?: { dropped: number; summarized: number; tokens: number };
  memory?: string;
  /** Tokens of every model call of the run. */
  readonly usage: Usage;
  readonly records: StepRecord[];
}

/** What a step handler answers when it succeeded. */
export interface StepResult {
  vars?: Record<string, Value>;
  detail?: Record<string, unknown>;
  /** Go here instead of the step's `next` (branches, a verify fallback to a step). */
  goto?: string;
  /** The run ends after this step (abstain). */
  end?: boolean;
}

export type StepHandler<S extends StepConfig = StepConfig> = (step: S, st: RunState, env: StepEnv, signal: AbortSignal) => Promise<StepResult>;

/** A step that did not do its job without an exception (a label outside the set, an answer cut by the token budget). */
export class StepFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StepFailure";
  }
}

/** An error that ends the run as is, without the step's fallback (a guardrail refusal, verification set to fail). */
export class RunStop extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error));
    this.name = "RunStop";
  }
}
