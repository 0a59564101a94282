// What route handlers share: the services plus a few request helpers.
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Config } from "../config/schema.js";
import type { ApiKeyRecord } from "../data/types.js";
import type { Ingestor, IngestReport } from "../ingest/index.js";
import type { JobQueue } from "../jobs/index.js";
import type { AddDocument } from "../protocol/stratum.js";
import type { ChatBackend, ResumeSummary } from "../pipelines/index.js";
import type { ApprovalStore } from "../tools/index.js";
import type { DriftMonitor } from "../drift/index.js";
import type { GatewayTracing, TraceStore } from "../tracing/index.js";
import type { EvalStore } from "../evals/index.js";
import type { RegistryService } from "../registry/index.js";
import type { RolloutService } from "../rollouts/index.js";
import type { RetrievalStore, SearchRequest, SearchResult } from "../retrieval/types.js";
import type { MemoryStore, SessionStore } from "../sessions/index.js";
import type { Logger } from "../ops/logger.js";
import type { Metrics } from "../ops/metrics.js";
import type { UsageRecorder } from "../ops/usage-recorder.js";
import { authenticate, presentedKey, requireAdmin } from "./auth/authenticate.js";
import { connectionSignal } from "./client-signal.js";
import type { KeyService } from "./auth/key-service.js";
import type { ChatFlow } from "./chat-flow.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Model label for metrics and logs, set once the body is parsed. */
    stratumModel?: string;
    stratumKey?: ApiKeyRecord;
    /** Outcome of a streamed reply (the HTTP status is 200 once streaming starts). */
    stratumStatus?: number;
    /** performance.now() when the request arrived. */
    stratumStart: number;
  }
}

/** Collections, search, sessions and memory: what the knowledge routes need. */
export interface Knowledge {
  store: RetrievalStore;
  retriever: { search(req: SearchRequest): Promise<SearchResult> };
  ingestor: Ingestor;
  /** Ingest one document given over the API (text, base64 bytes or a URL). */
  addDocument(tenant: string, collection: string, doc: AddDocument): Promise<IngestReport>;
  /** Asynchronous work (ingestion jobs), shared by replicas when Redis is configured. */
  jobs: JobQueue;
  sessions: SessionStore;
  memory: MemoryStore;
}

/** Human approvals of server-side tool calls (absent when storage cannot hold them). */
export interface Approvals {
  store: ApprovalStore;
  /** Continues the run of a decided approval in this process. */
  resume(id: string): Promise<ResumeSummary>;
}

export interface GatewayDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  keys: KeyService;
  models: ChatBackend;
  flow: ChatFlow;
  usage: UsageRecorder;
  knowledge: Knowledge;
  approvals?: Approvals;
  /** Drift monitoring (absent when drift.enabled is false). */
  drift?: DriftMonitor;
  /** Stored eval runs (written by `stratum eval run`, read by the console). */
  evals?: EvalStore;
  /** Versioned pipelines, prompts and routes (the registry routes). */
  registry?: RegistryService;
  /** Blue-green, canary and shadow rollouts of pipeline versions. */
  rollouts?: RolloutService;
  /** Request tracing, the trace store and online evaluation (absent when tracing is off). */
  tracing?: GatewayTracing;
  /** Readiness: undefined when ready, else the reason (draining, a backend down). */
  notReadyReason(): Promise<string | undefined>;
}

export class GatewayContext {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly keys: KeyService;
  readonly models: ChatBackend;
  readonly flow: ChatFlow;
  readonly usage: UsageRecorder;
  readonly knowledge: Knowledge;
  readonly approvals: Approvals | undefined;
  readonly drift: DriftMonitor | undefined;
  readonly evals: EvalStore | undefined;
  readonly registry: RegistryService | undefined;
  readonly rollouts: RolloutService | undefined;
  readonly tracing: GatewayTracing | undefined;
  /** The trace store behind /v1/traces. */
  readonly traces: TraceStore | undefined;
  readonly notReadyReason: () => Promise<string | undefined>;
  private inFlightCount = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(d: GatewayDeps) {
    this.config = d.config;
    this.log = d.log;
    this.metrics = d.metrics;
    this.keys = d.keys;
    this.models = d.models;
    this.flow = d.flow;
    this.usage = d.usage;
    this.knowledge = d.knowledge;
    this.approvals = d.approvals;
    this.drift = d.drift;
    this.evals = d.evals;
    this.registry = d.registry;
    this.rollouts = d.rollouts;
    this.tracing = d.tracing;
    this.traces = d.tracing?.store;
    this.notReadyReason = d.notReadyReason;
  }

  requestStarted(): void {
    this.inFlightCount++;
    this.metrics.inFlight.inc();
  }

  requestEnded(): void {
    this.inFlightCount--;
    this.metrics.inFlight.dec();
    if (this.inFlightCount === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Resolves when no request or stream is in flight. */
  idle(): Promise<void> {
    return this.inFlightCount === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  authenticate(request: FastifyRequest): Promise<ApiKeyRecord> {
    // A key the cache holds: no async layers (every request of an active client takes this path).
    const presented = presentedKey(request.headers);
    const cached = presented === undefined ? undefined : this.keys.cachedActive(presented);
    if (cached) {
      request.stratumKey = cached;
      return Promise.resolve(cached);
    }
    return this.authenticateSlowly(request);
  }

  private async authenticateSlowly(request: FastifyRequest): Promise<ApiKeyRecord> {
    const key = await authenticate(this.keys, request.headers);
    request.stratumKey = key;
    return key;
  }

  async authenticateAdmin(request: FastifyRequest): Promise<ApiKeyRecord> {
    const key = await this.authenticate(request);
    requireAdmin(key);
    return key;
  }

  /** Aborts when the client disconnects (closes the request's connection). */
  clientSignal(reply: FastifyReply): AbortSignal {
    return connectionSignal(reply.request.raw.socket);
  }
}
