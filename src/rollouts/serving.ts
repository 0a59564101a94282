// Serving pipelines by version. `name` resolves through the `production`
// alias, or through the rollout in progress on it (canary: a stable hash of
// the user/session picks the side; shadow: the baseline serves and the
// candidate gets a mirror); `name@3` and `name@staging` address a version or
// an alias directly (no rollout involved). Pipelines are built from a version's
// spec by the app's factory, once per content hash. Every answer carries
// `stratum.pipeline_version`, and the request span (the turn's trace context) `stratum.pipeline.version`.
import { recordedSpan } from "../core/trace-context.js";
import type { PipelineConfig } from "../config/schema.js";
import { StratumError } from "../core/errors.js";
import { answeredByFallback, type Served } from "../models/index.js";
import type { Logger } from "../ops/logger.js";
import type { ChatCompletion, ChatCompletionChunk, ChatRequest, Usage } from "../protocol/openai.js";
import type { Pipeline, PipelineResolver, TurnContext } from "../pipelines/index.js";
import { parseModelRef, PRODUCTION_ALIAS, type RegistryService, type RegistryVersion } from "../registry/index.js";
import { assignSide } from "./assign.js";
import { completionText, failedOutcome, wasWithheld, type Outcome } from "./outcome.js";
import { trafficPercent, type RolloutService } from "./service.js";
import type { CostOf, ShadowRunner } from "./shadow.js";
import type { Rollout, Side } from "./types.js";

export interface VersionedPipelinesDeps {
  registry: RegistryService;
  rollouts: RolloutService;
  shadow: ShadowRunner;
  /** The app's pipeline factory. */
  build(cfg: PipelineConfig): Pipeline;
  cost: CostOf;
  log: Logger;
  /** How long alias lookups and the list of names are trusted (other replicas' changes show up within it). */
  cacheMs?: number;
}

/** What a served request reports back to its rollout. */
interface Observer {
  rollout: Rollout;
  side: Side;
  /** Shadow rollouts: the candidate that gets the mirror. */
  shadow?: { pipeline: Pipeline };
}

const MAX_BUILT = 64;

export class VersionedPipelines implements PipelineResolver {
  private known = new Set<string>();
  private knownAt = 0;
  private refreshing: Promise<void> | undefined;
  private readonly aliasCache = new Map<string, { at: number; aliases: Promise<Record<string, number>> }>();
  private readonly versions = new Map<string, RegistryVersion>();
  private readonly built = new Map<string, Pipeline>();
  private readonly cacheMs: number;

  constructor(private readonly d: VersionedPipelinesDeps) {
    this.cacheMs = d.cacheMs ?? 1_000;
  }

  /** Loads the pipeline names; call before serving. */
  async start(): Promise<void> {
    await this.refreshNames();
  }

  /** A pipeline already built for a spec hash (the config's, at start). */
  prime(hash: string, pipeline: Pipeline): void {
    this.built.set(hash, pipeline);
  }

  /** Forget cached aliases and names (after a write in this process). */
  forget(): void {
    this.aliasCache.clear();
    this.knownAt = 0;
    void this.refreshNames();
  }

  has(model: string): boolean {
    this.maybeRefresh();
    return this.known.has(parseModelRef(model).name);
  }

  names(): string[] {
    this.maybeRefresh();
    return [...this.known];
  }

  async resolve(model: string, ctx: TurnContext): Promise<Pipeline | undefined> {
    const ref = parseModelRef(model);
    if (!this.known.has(ref.name)) return undefined;
    const name = ref.name;
    let version: number;
    let observer: Observer | undefined;
    if (ref.selector && "version" in ref.selector) {
      version = ref.selector.version;
    } else {
      const alias = ref.selector?.alias ?? PRODUCTION_ALIAS;
      const r = await this.d.rollouts.running(name);
      if (r && r.alias === alias && r.strategy === "canary") {
        const side = assignSide(r.id, stickyKey(ctx), trafficPercent(r));
        version = side === "candidate" ? r.toVersion : r.fromVersion;
        observer = { rollout: r, side };
      } else if (r && r.alias === alias && r.strategy === "shadow") {
        version = r.fromVersion;
        const cand = await this.versionAt(name, r.toVersion, model);
        observer = { rollout: r, side: "baseline", shadow: { pipeline: this.pipelineOf(cand) } };
      } else {
        const v = (await this.aliases(name))[alias];
        if (v === undefined) throw new StratumError("NotFound", `The model \`${model}\`: pipeline "${name}" has no alias "${alias}"`, { param: "model", code: "model_not_found" });
        version = v;
      }
    }
    const spec = await this.versionAt(name, version, model);
    recordedSpan(ctx.trace)?.setAttribute("stratum.pipeline.version", version);
    return new ServedVersion(this.pipelineOf(spec), version, observer, this.d);
  }

  private pipelineOf(v: RegistryVersion): Pipeline {
    let p = this.built.get(v.hash);
    if (!p) {
      p = this.d.build(v.spec as PipelineConfig);
      if (this.built.size >= MAX_BUILT) this.built.delete(this.built.keys().next().value!);
      this.built.set(v.hash, p);
    }
    return p;
  }

  private async versionAt(name: string, version: number, model: string): Promise<RegistryVersion> {
    const key = `${name}@${version}`;
    let v = this.versions.get(key);
    if (!v) {
      v = await this.d.registry.store.getVersion("pipeline", name, version);
      if (!v) throw new StratumError("NotFound", `The model \`${model}\`: pipeline "${name}" has no version ${version}`, { param: "model", code: "model_not_found" });
      this.versions.set(key, v); // versions are immutable
    }
    return v;
  }

  private aliases(name: string): Promise<Record<string, number>> {
    const hit = this.aliasCache.get(name);
    if (hit && Date.now() - hit.at < this.cacheMs) return hit.aliases;
    const aliases = this.d.registry.store.aliases("pipeline", name);
    this.aliasCache.set(name, { at: Date.now(), aliases });
    aliases.catch(() => this.aliasCache.delete(name));
    return aliases;
  }

  private maybeRefresh(): void {
    if (Date.now() - this.knownAt >= this.cacheMs * 5) void this.refreshNames();
  }

  private refreshNames(): Promise<void> {
    this.refreshing ??= this.d.registry.store
      .list("pipeline")
      .then((entries) => {
        this.known = new Set(entries.map((e) => e.name));
        this.knownAt = Date.now();
      })
      .catch((err: unknown) => this.d.log.error({ err }, "registry: listing pipelines failed"))
      .finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }
}

/** The user (or session) keeps a user on one side of a canary; anonymous requests spread by request id. */
function stickyKey(ctx: TurnContext): string {
  return `${ctx.tenant}\n${ctx.user ? `u:${ctx.user}` : ctx.sessionId ? `s:${ctx.sessionId}` : `r:${ctx.requestId}`}`;
}

/** One request's view of a version: adds the version to the answer and reports the outcome to its rollout. */
class ServedVersion implements Pipeline {
  readonly name: string;

  constructor(
    private readonly inner: Pipeline,
    private readonly version: number,
    private readonly observer: Observer | undefined,
    private readonly d: VersionedPipelinesDeps,
  ) {
    this.name = inner.name;
  }

  async complete(req: ChatRequest, ctx: TurnContext): Promise<Served<ChatCompletion>> {
    const started = performance.now();
    let served: Served<ChatCompletion>;
    try {
      served = await this.inner.complete(req, ctx);
    } catch (e) {
      this.report(failedOutcome(e, performance.now() - started, ctx.signal.aborted), req, ctx);
      throw e;
    }
    const result: ChatCompletion = { ...served.result, stratum: { ...served.result.stratum, pipeline_version: this.version } };
    this.report({ latencyMs: performance.now() - started, error: answeredByFallback(served), blocked: wasWithheld(result), text: completionText(result), costUsd: this.d.cost(served, result.usage) }, req, ctx);
    return { ...served, result };
  }

  async stream(req: ChatRequest, ctx: TurnContext): Promise<Served<AsyncIterable<ChatCompletionChunk>>> {
    const started = performance.now();
    let served: Served<AsyncIterable<ChatCompletionChunk>>;
    try {
      served = await this.inner.stream(req, ctx);
    } catch (e) {
      this.report(failedOutcome(e, performance.now() - started, ctx.signal.aborted), req, ctx);
      throw e;
    }
    return { ...served, result: this.observed(served, started, req, ctx) };
  }

  private async *observed(served: Served<AsyncIterable<ChatCompletionChunk>>, started: number, req: ChatRequest, ctx: TurnContext): AsyncGenerator<ChatCompletionChunk> {
    const parts: string[] = [];
    let finish: string | null = null;
    let usage: Usage | undefined;
    let outcome: Outcome | undefined;
    try {
      for await (const chunk of served.result) {
        const choice = chunk.choices[0];
        if (choice?.delta.content) parts.push(choice.delta.content);
        if (chunk.usage) usage = chunk.usage;
        if (choice?.finish_reason) {
          finish = choice.finish_reason;
          yield { ...chunk, stratum: { ...chunk.stratum, pipeline_version: this.version } };
        } else {
          yield chunk;
        }
      }
      outcome = { latencyMs: performance.now() - started, error: answeredByFallback(served), blocked: finish === "content_filter", text: parts.join(""), costUsd: this.d.cost(served, usage) };
    } catch (e) {
      outcome = failedOutcome(e, performance.now() - started, ctx.signal.aborted);
      throw e;
    } finally {
      // A consumer that stopped early (client gone) leaves no outcome: not counted.
      this.report(outcome ?? { latencyMs: performance.now() - started, error: false, blocked: false, text: parts.join(""), costUsd: 0, aborted: true }, req, ctx);
    }
  }

  /** Off the response path: the sample (and a canary step), then the shadow mirror. */
  private report(o: Outcome, req: ChatRequest, ctx: TurnContext): void {
    const obs = this.observer;
    if (!obs || o.aborted) return;
    setImmediate(() => {
      void this.d.rollouts.observe(obs.rollout, { side: obs.side, latencyMs: o.latencyMs, error: o.error, blocked: o.blocked });
      if (obs.shadow && !o.error) this.d.shadow.mirror({ rollout: obs.rollout, candidate: obs.shadow.pipeline, request: req, ctx, live: o });
    });
  }
}
