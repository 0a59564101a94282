// The one config file, validated at start. Field names in errors are the
// dotted paths below (e.g. `models[0].deployments[1].provider`).
import { z } from "zod";
import { Secret } from "./secret.js";
import { stepRoutes, StepsSchema } from "./pipeline-steps.js";

/** An env reference: `{ env: NAME }` or the string `${NAME}`. Literal secrets are refused. */
export const SecretRefSchema = z.union([
  z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env must be a variable name") }),
  z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/, "secrets must be env references like ${OPENAI_API_KEY} or { env: OPENAI_API_KEY }, never literal values"),
]).transform((ref, ctx) => {
  const name = typeof ref === "string" ? ref.slice(2, -1) : ref.env;
  const value = process.env[name];
  if (value === undefined || value === "") {
    ctx.addIssue({ code: "custom", message: `environment variable ${name} is not set` });
    return z.NEVER;
  }
  return new Secret(name, value);
});

const ms = (def: number) => z.number().int().nonnegative().default(def);

export const OpenAIProviderSchema = z.strictObject({
  type: z.literal("openai"),
  baseUrl: z.url().default("https://api.openai.com/v1"),
  apiKey: SecretRefSchema.optional(),
  headers: z.record(z.string(), z.string()).default({}),
  maxConnections: z.number().int().positive().default(128),
});

export const AnthropicProviderSchema = z.strictObject({
  type: z.literal("anthropic"),
  baseUrl: z.url().default("https://api.anthropic.com"),
  apiKey: SecretRefSchema.optional(),
  version: z.string().default("2023-06-01"),
  maxConnections: z.number().int().positive().default(128),
  /** Anthropic requires max_tokens; used when the request sets none. */
  defaultMaxTokens: z.number().int().positive().default(4096),
});

export const SimProviderSchema = z.strictObject({
  type: z.literal("sim"),
  ttftMs: ms(0),
  tokensPerSecond: z.number().nonnegative().default(0), // 0 = as fast as possible
  outputTokens: z.number().int().positive().default(16),
  errorRate: z.number().min(0).max(1).default(0),
  rateLimitRate: z.number().min(0).max(1).default(0),
  retryAfterSeconds: z.number().nonnegative().default(1),
  hangRate: z.number().min(0).max(1).default(0),
  embeddingDimensions: z.number().int().positive().max(4096).default(64),
  seed: z.number().int().optional(),
});

export const ExtractiveProviderSchema = z.strictObject({
  type: z.literal("extractive"),
  maxSentences: z.number().int().positive().default(3),
  /** Below this best-sentence relevance the answer says the context does not contain it. */
  minScore: z.number().min(0).default(0.1),
});

/** A local GGUF model run in process by llama.cpp (the optional package node-llama-cpp). */
export const GgufProviderSchema = z.strictObject({
  type: z.literal("gguf"),
  /** The .gguf file (a relative path is taken from the working directory). */
  modelPath: z.string().min(1),
  /** Tokens of context per request (prompt and answer); at most the model's trained context. */
  contextSize: z.number().int().positive().max(1_048_576).default(4096),
  /** Requests generated at once, each on its own sequence of one context; more wait their turn. */
  parallel: z.number().int().positive().max(64).default(1),
  /** CPU threads for generation (default: one fewer than the machine's cores, at least 1). */
  threads: z.number().int().positive().max(256).optional(),
  /** GPU backend: "auto" uses one when node-llama-cpp ships a build for it, false stays on the CPU. */
  gpu: z.union([z.literal(false), z.enum(["auto", "cuda", "vulkan", "metal"])]).default("auto"),
});

export const ProviderSchema = z.discriminatedUnion("type", [
  OpenAIProviderSchema,
  AnthropicProviderSchema,
  SimProviderSchema,
  ExtractiveProviderSchema,
  GgufProviderSchema,
]);
export type ProviderConfig = z.infer<typeof ProviderSchema>;
export type OpenAIProviderConfig = z.infer<typeof OpenAIProviderSchema>;
export type AnthropicProviderConfig = z.infer<typeof AnthropicProviderSchema>;
export type SimProviderConfig = z.infer<typeof SimProviderSchema>;
export type ExtractiveProviderConfig = z.infer<typeof ExtractiveProviderSchema>;
export type GgufProviderConfig = z.infer<typeof GgufProviderSchema>;

export const TimeoutsSchema = z.strictObject({
  connectMs: ms(5_000),
  firstTokenMs: ms(30_000),
  totalMs: ms(300_000),
});

export const DeploymentSchema = z.strictObject({
  provider: z.string().min(1),
  /** Upstream model name; defaults to the alias name. */
  model: z.string().min(1).optional(),
  weight: z.number().positive().default(1),
  maxConcurrent: z.number().int().positive().optional(),
  timeouts: TimeoutsSchema.partial().optional(),
  /** For `routing: complexity`: whether this deployment serves simple or complex requests first. */
  tier: z.enum(["simple", "complex"]).optional(),
});

export const ModelAliasSchema = z.strictObject({
  name: z.string().min(1).regex(/^[^\s]+$/, "model names cannot contain whitespace"),
  deployments: z.array(DeploymentSchema).min(1),
  /** Other aliases tried in order when every deployment of this one failed. */
  fallbacks: z.array(z.string()).default([]),
  /** Append the built-in extractive model as the last resort. */
  extractiveFallback: z.boolean().default(true),
  /** Whether the alias can serve embeddings. */
  embeddings: z.boolean().default(false),
  /**
   * The order deployments are tried in. weighted: random, by weight. latency: random, by weight
   * divided by each deployment's recent time to first response, so a deployment twice as slow gets
   * half the share. complexity: requests scored simple (below `complexityThreshold`) try the
   * `tier: simple` deployments first (the small, cheap model), the others the `tier: complex` ones;
   * the rest of the alias's deployments stay behind them as failover.
   */
  routing: z.enum(["weighted", "latency", "complexity"]).default("weighted"),
  complexityThreshold: z.number().min(0).max(1).default(0.3),
}).superRefine((m, ctx) => {
  if (m.routing !== "complexity") return;
  for (const tier of ["simple", "complex"] as const) {
    if (!m.deployments.some((d) => d.tier === tier)) ctx.addIssue({ code: "custom", path: ["deployments"], message: `routing: complexity needs a deployment with tier: ${tier}` });
  }
});
export type ModelAliasConfig = z.infer<typeof ModelAliasSchema>;

export const CircuitBreakerSchema = z.strictObject({
  /** Consecutive failures that open the circuit, while at least failureRateThreshold of the calls in the last fifth of the window failed (minimumCalls in a row open it regardless). */
  failureThreshold: z.number().int().positive().default(5),
  /** Or: failure rate over the rolling window (with at least minimumCalls). */
  failureRateThreshold: z.number().min(0).max(1).default(0.5),
  minimumCalls: z.number().int().positive().default(20),
  windowMs: ms(10_000),
  openMs: ms(30_000),
  halfOpenMaxCalls: z.number().int().positive().default(3),
});
export type CircuitBreakerConfig = z.infer<typeof CircuitBreakerSchema>;

export const RetrySchema = z.strictObject({
  /** Attempts per deployment, including the first. */
  maxAttempts: z.number().int().positive().max(10).default(2),
  baseMs: ms(25),
  capMs: ms(2_000),
  /** A Retry-After longer than this skips to the next deployment instead of waiting. */
  maxRetryAfterMs: ms(10_000),
  /**
   * Per deployment, retries at most `percent` of its requests over `windowMs`, plus `minPerSecond`
   * whatever the load (Finagle's defaults): a failing upstream is not hit by a retry storm.
   */
  budget: z
    .strictObject({
      percent: z.number().min(0).max(100).default(20),
      minPerSecond: z.number().nonnegative().default(10),
      windowMs: z.number().int().positive().default(10_000),
    })
    .prefault({}),
});
export type RetryConfig = z.infer<typeof RetrySchema>;

export const RouterSchema = z.strictObject({
  retry: RetrySchema.prefault({}),
  timeouts: TimeoutsSchema.prefault({}),
  circuitBreaker: CircuitBreakerSchema.prefault({}),
});
export type RouterConfig = z.infer<typeof RouterSchema>;

export const PriceSchema = z.strictObject({
  /** USD per million input tokens. */
  input: z.number().nonnegative(),
  /** USD per million output tokens. */
  output: z.number().nonnegative(),
});

export const LimitsSchema = z.strictObject({
  requestsPerMinute: z.number().int().positive().optional(),
  tokensPerMinute: z.number().int().positive().optional(),
  concurrent: z.number().int().positive().optional(),
});
export type Limits = z.infer<typeof LimitsSchema>;

const BudgetCapsSchema = z.strictObject({
  /** USD per UTC day. */
  dailyUsd: z.number().nonnegative().optional(),
  /** USD per UTC calendar month. */
  monthlyUsd: z.number().nonnegative().optional(),
});
export type BudgetCaps = z.infer<typeof BudgetCapsSchema>;

export const BudgetSchema = z.strictObject({
  /** USD per key per UTC day (a key's own `dailyBudgetUsd` wins). */
  dailyUsd: z.number().nonnegative().optional(),
  /** USD per key per UTC calendar month (a key's own `monthlyBudgetUsd` wins). */
  monthlyUsd: z.number().nonnegative().optional(),
  /** Caps on the spend of all keys of a tenant together, for every tenant without its own entry in `tenants`. */
  perTenant: BudgetCapsSchema.optional(),
  /** Caps per named tenant; a field left out falls back to `perTenant`. */
  tenants: z.record(z.string().min(1).max(64), BudgetCapsSchema).default({}),
  onExceeded: z.enum(["block", "downgrade"]).default("block"),
  /** The alias used instead when downgrading. */
  downgradeTo: z.string().optional(),
});
export type BudgetConfig = z.infer<typeof BudgetSchema>;

export const DEFAULT_SYSTEM_PROMPT = [
  "You are {{name}}, an assistant that answers questions about the documents of the \"{{collection}}\" collection.",
  "Answer only from the numbered passages below. Cite each fact with its passage number in square brackets, like [1] or [2][3].",
  "If the passages do not contain the answer, say that the documents do not answer the question.",
  "{{memory}}",
  "Passages:",
  "{{context}}",
].join("\n");

export const PromptTemplateSchema = z.strictObject({
  /** Bumped by hand when the text changes; reported with every answer (with a content hash). */
  version: z.string().min(1).default("1"),
  /** Placeholders: {{context}} (numbered passages), {{memory}}, {{collection}}, {{name}}. */
  system: z.string().min(1).default(DEFAULT_SYSTEM_PROMPT),
});

const Action = z.enum(["allow", "redact", "block", "flag"]);
const DetectorRule = (def: z.infer<typeof Action>) =>
  z.strictObject({
    action: Action.default(def),
    /** Only these finding types count (entity types, attack families, hazard categories); all when unset. */
    types: z.array(z.string()).optional(),
    /** Findings scoring below this are ignored. */
    threshold: z.number().min(0).max(1).default(0.5),
  });

export const GuardrailsSchema = z.strictObject({
  input: z
    .strictObject({
      pii: DetectorRule("redact").optional(),
      secrets: DetectorRule("block").optional(),
      injection: DetectorRule("block").optional(),
      moderation: DetectorRule("block").optional(),
    })
    .prefault({}),
  /** Retrieved passages: indirect prompt injection. `block` drops the passage, `flag` keeps and records it. */
  retrieval: z.strictObject({ injection: DetectorRule("block").optional() }).prefault({}),
  output: z
    .strictObject({
      pii: DetectorRule("redact").optional(),
      secrets: DetectorRule("redact").optional(),
      moderation: DetectorRule("block").optional(),
      /** A canary token in the system prompt; its appearance in the output means the prompt leaked. */
      canary: z.boolean().default(true),
      /** Share of answer sentences supported by the passages. */
      grounding: z
        .strictObject({
          threshold: z.number().min(0).max(1).default(0.5),
          /** block: refuse; retry: ask again with stricter instructions; fallback: answer with `extractive`; flag: report only. */
          action: z.enum(["flag", "block", "retry", "fallback"]).default("flag"),
        })
        .optional(),
    })
    .prefault({}),
  /** Put the original values back into the reply where input redaction replaced them with placeholders. */
  restoreRedacted: z.boolean().default(true),
});
export type GuardrailsConfig = z.infer<typeof GuardrailsSchema>;

const RiskSchema = z.enum(["low", "medium", "high"]);

/** A value that is either literal text or an env reference (`${NAME}` / `{ env: NAME }`, for tokens in headers and env). */
const TextOrSecretSchema = z
  .union([z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "env must be a variable name") }), z.string()])
  .transform((v, ctx): string | Secret => {
    const name = typeof v === "string" ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(v)?.[1] : v.env;
    if (name === undefined) return v as string;
    const value = process.env[name];
    if (value === undefined || value === "") {
      ctx.addIssue({ code: "custom", message: `environment variable ${name} is not set` });
      return z.NEVER;
    }
    return new Secret(name, value);
  });

const McpServerBase = {
  /** Tools are registered as `<name>__<tool>`. */
  name: z.string().regex(/^[a-zA-Z0-9-]{1,32}$/, "MCP server names use letters, digits and -, at most 32"),
  /** Risk of every tool of the server (above approvalThreshold → human approval). */
  risk: RiskSchema,
  /** Only these tools of the server are offered (default: all it lists). */
  allow: z.array(z.string().min(1)).min(1).optional(),
  /** Per-call timeout. */
  timeoutMs: z.number().int().positive().default(30_000),
};

/** An MCP server whose tools the pipeline offers: a local process (stdio) or a streamable-HTTP endpoint. */
export const McpServerSchema = z.discriminatedUnion("transport", [
  z.strictObject({
    ...McpServerBase,
    transport: z.literal("stdio"),
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** Added to a minimal safe environment (PATH, HOME, ...); nothing else of the server's env is passed on. */
    env: z.record(z.string(), TextOrSecretSchema).optional(),
    cwd: z.string().min(1).optional(),
  }),
  z.strictObject({
    ...McpServerBase,
    transport: z.literal("http"),
    url: z.url({ protocol: /^https?$/ }),
    headers: z.record(z.string(), TextOrSecretSchema).optional(),
    /** The server may be on a private/loopback address (off: the webhook tool's SSRF protection applies). */
    allowPrivate: z.boolean().optional(),
  }),
]);
export type McpServerConfig = z.infer<typeof McpServerSchema>;

/** Server-side tools of a pipeline (the gateway runs them; above-threshold calls wait for a human approval). */
export const PipelineToolsSchema = z.strictObject({
  builtins: z
    .array(z.union([z.literal("document_search"), z.strictObject({ http_get: z.strictObject({ allowDomains: z.array(z.string().min(1)).min(1) }) })]))
    .default([]),
  webhooks: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "tool names use letters, digits, _ and -, at most 64"),
        description: z.string().min(1),
        url: z.string().url(),
        /** JSON schema of the arguments object. */
        parameters: z.record(z.string(), z.unknown()).default({ type: "object" }),
        risk: RiskSchema,
        /** The endpoint may be on a private/loopback address (off: SSRF protection). */
        allowPrivate: z.boolean().optional(),
      }),
    )
    .default([]),
  /** MCP servers as tool sources (connected at start; their tools are `<server>__<tool>`). */
  mcp: z
    .array(McpServerSchema)
    .default([])
    .refine((list) => new Set(list.map((m) => m.name)).size === list.length, "MCP server names must be unique within a pipeline"),
  /** Calls to tools whose risk is strictly above this wait for a human approval. */
  approvalThreshold: RiskSchema.default("medium"),
  approvalTimeoutSeconds: z.number().int().positive().default(900),
  budgets: z
    .strictObject({
      maxSteps: z.number().int().positive().default(8),
      maxMs: z.number().int().positive().default(60_000),
    })
    .prefault({}),
});
export type PipelineToolsConfig = z.infer<typeof PipelineToolsSchema>;

/** True when some tool of the pipeline is above its approval threshold (webhooks and MCP servers by their declared risk; built-ins are low risk). */
export function toolsNeedApproval(t: PipelineToolsConfig | undefined): boolean {
  const rank = { low: 0, medium: 1, high: 2 } as const;
  return Boolean(t && [...t.webhooks, ...t.mcp].some((w) => rank[w.risk] > rank[t.approvalThreshold]));
}

export const PipelineSchema = z.strictObject({
  name: z.string().min(1).regex(/^[^\s]+$/, "pipeline names cannot contain whitespace"),
  /** The collection retrieved from (in the caller's tenant). */
  collection: z.string().min(1).default("docs"),
  /** The model alias that answers (the router's fallbacks and caching apply). */
  route: z.string().min(1).default("extractive"),
  prompt: PromptTemplateSchema.prefault({}),
  input: z
    .strictObject({
      /** Longest accepted user message, in tokens. */
      maxTokens: z.number().int().positive().default(4_000),
    })
    .prefault({}),
  retrieval: z
    .strictObject({
      k: z.number().int().positive().max(50).default(5),
      mode: z.enum(["hybrid", "lexical", "dense"]).default("hybrid"),
      /** MMR lambda (1 = pure relevance); false turns MMR off. */
      mmr: z.union([z.number().min(0).max(1), z.literal(false)]).default(0.7),
      /** Below this retrieval confidence the pipeline answers that the documents do not say. */
      minConfidence: z.number().min(0).max(1).default(0.15),
      /** Whether follow-ups are rewritten into standalone queries: with the route when it is an LLM, by rule otherwise. */
      condense: z.enum(["auto", "llm", "rule", "off"]).default("auto"),
    })
    .prefault({}),
  context: z
    .strictObject({
      /** The route's context window, in tokens. */
      maxTokens: z.number().int().positive().default(8_192),
      reserveOutputTokens: z.number().int().positive().default(1_024),
      /** What happens to turns that no longer fit: dropped, or summarised by the route. */
      strategy: z.enum(["drop", "summarize"]).default("drop"),
    })
    .prefault({}),
  /** Long-term memory facts about the end user, recalled into the prompt. */
  memory: z.boolean().default(true),
  guardrails: GuardrailsSchema.prefault({}),
  /** Server-side tools (a generative route calls them in a loop; risky calls wait for approval). */
  tools: PipelineToolsSchema.optional(),
  /** Declarative steps with branches, budgets and fallbacks (a StepPipeline instead of the fixed RAG path). */
  steps: StepsSchema.optional(),
});
export type PipelineConfig = z.infer<typeof PipelineSchema>;

/** The `drift:` section: windows of input/output signals compared to a reference window with PSI and KS; thresholds raise alerts (metric, log, webhook) and can start a re-evaluation. */
export const DriftSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Samples per window (the reference is the first full window; the current one the latest this many). */
  windowSize: z.number().int().min(10).max(100_000).default(1_000),
  /** Also bound windows by time: the current window keeps only samples this recent; the first reference closes after this long. */
  windowSeconds: z.number().int().positive().optional(),
  /** No alert before both windows hold this many samples. */
  minSamples: z.number().int().min(5).default(100),
  /** Quantile bins of the reference for numeric PSI. */
  bins: z.number().int().min(2).max(100).default(10),
  psiThreshold: z.number().positive().default(0.2),
  /** A KS p-value below this counts as a shift. */
  ksPValue: z.number().min(0).max(1).default(0.01),
  /** Numeric signals alert when PSI and KS both cross (robust at small and large windows), or when either does. */
  require: z.enum(["both", "either"]).default("both"),
  /** How often the check runs (also on demand: POST /v1/drift/check). */
  checkIntervalSeconds: z.number().int().positive().default(60),
  /** Alerts are POSTed here as JSON (failures are logged, never thrown). */
  webhookUrl: z.url().optional(),
  webhookTimeoutMs: z.number().int().positive().default(5_000),
  /** On an alert, run this eval dataset (JSONL) against this pipeline in the background and store the run. */
  reevaluate: z
    .strictObject({
      dataset: z.string().min(1),
      pipeline: z.string().min(1),
      /** The key the evaluation calls the server with (default: the admin key, STRATUM_API_KEY). */
      apiKey: SecretRefSchema.optional(),
      concurrency: z.number().int().positive().max(32).default(2),
    })
    .optional(),
});
export type DriftConfig = z.infer<typeof DriftSchema>;

/** Online-eval metrics (reference-free) that live pipeline responses can be scored with. */
export const ONLINE_EVAL_METRICS = ["groundedness", "abstained", "citations", "answer_length", "json_valid"] as const;

/** The `tracing:` section: OpenTelemetry spans into the trace store (and OTLP when configured), online evaluation. */
export const TracingSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Share of requests traced (decided at the root span; children follow it). */
  sampleRatio: z.number().min(0).max(1).default(1),
  /** Traces older than this are deleted (swept hourly). */
  retentionDays: z.number().positive().default(7),
  /** Also export spans over OTLP/HTTP (protobuf-free JSON); `/v1/traces` is appended unless the endpoint ends with it. */
  otlp: z
    .strictObject({
      endpoint: z.url({ protocol: /^https?$/ }),
      headers: z.record(z.string(), z.union([SecretRefSchema, z.string().regex(/^(?!\$\{)/, "an env reference must look like ${NAME}")])).default({}),
    })
    .optional(),
  /** A sample of live pipeline responses scored asynchronously with reference-free metrics. */
  onlineEval: z
    .strictObject({
      sampleRate: z.number().min(0).max(1).default(0.1),
      metrics: z.array(z.enum(ONLINE_EVAL_METRICS)).min(1).default([...ONLINE_EVAL_METRICS]),
      /** Responses waiting to be scored; beyond this they are dropped (and counted). */
      queueSize: z.number().int().positive().default(1_000),
    })
    .prefault({}),
});
export type TracingConfig = z.infer<typeof TracingSchema>;

export const ConfigSchema = z
  .strictObject({
    server: z
      .strictObject({
        host: z.string().default("127.0.0.1"),
        port: z.number().int().min(0).max(65535).default(8787),
        bodyLimitBytes: z.number().int().positive().default(4 * 1024 * 1024),
        drainTimeoutMs: ms(30_000),
        logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
        /** Log one line per request (pino, off the event loop's critical path). */
        requestLogs: z.boolean().default(true),
        /**
         * How far V8's old generation may grow past the live heap before the next
         * full GC, in percent; `stratum serve` sets it at start and runs one full GC
         * before it listens. 0 leaves V8's own factor (up to 300 %). The default 20
         * kept the peak RSS under load ~30 MiB lower with no CPU cost measurable
         * in same-minute A/B runs (app/heap-growth.ts, bench/README.md).
         */
        heapGrowthPercent: z.number().int().min(0).max(300).default(20),
      })
      .prefault({}),
    dataDir: z.string().default(".stratum"),
    /** Where durable state lives: the embedded SQLite file, or PostgreSQL (stateless replicas). */
    storage: z.enum(["sqlite", "postgres"]).default("sqlite"),
    postgres: z
      .strictObject({
        url: SecretRefSchema.optional(),
        /** Tables in this schema (search_path); created if missing. */
        schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "schema names use lowercase letters, digits and _").default("public"),
        maxConnections: z.number().int().positive().default(10),
      })
      .optional(),
    redis: z
      .strictObject({
        url: SecretRefSchema.optional(),
        /** Prefix of every key (several deployments can share one Redis). */
        keyPrefix: z.string().max(64).default("stratum:"),
        /** A command without an answer by then fails (503, retryable) instead of holding the request. */
        commandTimeoutMs: z.number().int().positive().default(2_000),
      })
      .optional(),
    providers: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, "provider names use letters, digits, _ . -"), ProviderSchema).default({}),
    models: z.array(ModelAliasSchema).default([]),
    router: RouterSchema.prefault({}),
    /** Price table; keys are `provider/model` or `model`. */
    pricing: z.record(z.string(), PriceSchema).default({}),
    cache: z
      .strictObject({
        enabled: z.boolean().default(true),
        ttlSeconds: z.number().int().positive().default(3600),
        maxEntries: z.number().int().positive().default(10_000),
        /** redis: the response cache and all hot shared state (rate limits, coalescing, spend, jobs) live in Redis. */
        store: z.enum(["memory", "sqlite", "redis"]).default("memory"),
        /** Requests with temperature above this are not cached (outputs are meant to vary). */
        maxTemperature: z.number().min(0).max(2).default(2),
        /**
         * Also answer paraphrases: a request equal to an earlier one but for its last user message,
         * which means nearly the same (cosine similarity of the two embeddings at least `threshold`).
         * Entries live where `store` puts the exact cache: memory, SQLite (survives restarts), or
         * Redis (shared by replicas; at most 256 entries per partition, scanned per lookup).
         */
        semantic: z
          .strictObject({
            /** An alias that serves embeddings; it embeds each cacheable request's last user message. */
            embeddingModel: z.string().min(1),
            /** 0.95 takes near-paraphrases only; lower values risk answering a different question. */
            threshold: z.number().min(0.5).max(1).default(0.95),
            maxEntries: z.number().int().positive().default(2_000),
          })
          .optional(),
      })
      .prefault({}),
    limits: z
      .strictObject({
        /** Default per-key limits (a key's own limits override them). */
        perKey: LimitsSchema.default({}),
        /** Per end user (the `user` field), within a key. */
        perUser: LimitsSchema.default({}),
      })
      .prefault({}),
    budgets: BudgetSchema.prefault({}),
    usage: z
      .strictObject({
        /**
         * Days a per-request usage row is kept (0: for ever). The sums per hour, key and model stay:
         * budgets and reports read those, so only reports that start off the hour and older than this lose detail.
         */
        retentionDays: z.number().nonnegative().default(31),
      })
      .prefault({}),
    /** Pipelines are served as models (`model: "assistant"`). */
    pipelines: z.array(PipelineSchema).default([]),
    retrieval: z
      .strictObject({
        /** Model alias that embeds chunks and queries (must have `embeddings: true`); lexical-only when unset. */
        embeddingModel: z.string().optional(),
        chunkTokens: z.number().int().min(32).max(8_192).default(400),
        overlapTokens: z.number().int().nonnegative().default(60),
        /** URL ingestion may reach private/loopback addresses (off: SSRF protection). */
        allowPrivateUrls: z.boolean().default(false),
        maxFileBytes: z.number().int().positive().default(20 * 1024 * 1024),
        /** Ingest the bundled docs into the "docs" collection of the default tenant on first start. */
        sampleCollection: z.boolean().default(true),
      })
      .prefault({}),
    sessions: z
      .strictObject({
        /** Messages kept per session (oldest pruned). */
        maxMessages: z.number().int().positive().default(1_000),
        /** Context window assumed for plain models called with X-Session-Id (oldest turns dropped to fit). */
        contextTokens: z.number().int().positive().default(8_192),
      })
      .prefault({}),
    drift: DriftSchema.prefault({}),
    tracing: TracingSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const aliases = new Set(cfg.models.map((m) => m.name));
    cfg.models.forEach((m, i) => {
      m.deployments.forEach((d, j) => {
        if (!(d.provider in cfg.providers) && d.provider !== "extractive" && d.provider !== "sim") {
          ctx.addIssue({
            code: "custom",
            path: ["models", i, "deployments", j, "provider"],
            message: `unknown provider "${d.provider}" (declared: ${Object.keys(cfg.providers).join(", ") || "none"})`,
          });
        }
      });
      m.fallbacks.forEach((f, j) => {
        if (!aliases.has(f) && f !== "extractive" && f !== "sim") {
          ctx.addIssue({ code: "custom", path: ["models", i, "fallbacks", j], message: `unknown model alias "${f}"` });
        }
      });
    });
    const seen = new Set<string>();
    cfg.models.forEach((m, i) => {
      if (seen.has(m.name)) ctx.addIssue({ code: "custom", path: ["models", i, "name"], message: `duplicate model alias "${m.name}"` });
      seen.add(m.name);
    });
    cfg.pipelines.forEach((p, i) => {
      if (aliases.has(p.name) || p.name === "extractive" || p.name === "sim") ctx.addIssue({ code: "custom", path: ["pipelines", i, "name"], message: `"${p.name}" is already a model alias` });
      if (!aliases.has(p.route) && p.route !== "extractive" && p.route !== "sim") ctx.addIssue({ code: "custom", path: ["pipelines", i, "route"], message: `unknown model alias "${p.route}"` });
      for (const r of p.steps ? stepRoutes(p.steps) : []) {
        if (!aliases.has(r.route) && r.route !== "extractive" && r.route !== "sim") ctx.addIssue({ code: "custom", path: ["pipelines", i, "steps", ...r.path], message: `unknown model alias "${r.route}"` });
      }
      if (p.steps && p.tools) ctx.addIssue({ code: "custom", path: ["pipelines", i, "tools"], message: "tools are not available in step pipelines yet (remove tools or steps)" });
    });
    if (cfg.storage === "postgres" && !cfg.postgres?.url && !process.env.DATABASE_URL) {
      ctx.addIssue({ code: "custom", path: ["postgres", "url"], message: "required with storage: postgres (or set DATABASE_URL)" });
    }
    if (cfg.cache.store === "redis" && !cfg.redis?.url && !process.env.REDIS_URL) {
      ctx.addIssue({ code: "custom", path: ["redis", "url"], message: "required with cache.store: redis (or set REDIS_URL)" });
    }
    const reeval = cfg.drift.reevaluate;
    if (reeval && !cfg.pipelines.some((p) => p.name === reeval.pipeline) && !aliases.has(reeval.pipeline)) {
      ctx.addIssue({ code: "custom", path: ["drift", "reevaluate", "pipeline"], message: `unknown pipeline or model "${reeval.pipeline}"` });
    }
    const embedding = cfg.retrieval.embeddingModel;
    if (embedding !== undefined && !aliases.has(embedding) && embedding !== "sim") {
      ctx.addIssue({ code: "custom", path: ["retrieval", "embeddingModel"], message: `unknown model alias "${embedding}"` });
    }
    if (cfg.budgets.onExceeded === "downgrade") {
      if (!cfg.budgets.downgradeTo) {
        ctx.addIssue({ code: "custom", path: ["budgets", "downgradeTo"], message: "required when onExceeded is downgrade" });
      } else if (!aliases.has(cfg.budgets.downgradeTo) && !["extractive", "sim"].includes(cfg.budgets.downgradeTo)) {
        ctx.addIssue({ code: "custom", path: ["budgets", "downgradeTo"], message: `unknown model alias "${cfg.budgets.downgradeTo}"` });
      }
    }
  });

export type ConfigInput = z.input<typeof ConfigSchema>;
export type Config = z.infer<typeof ConfigSchema>;
