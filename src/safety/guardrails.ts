// Guardrails: a pipeline's detectors and what to do with their findings, at
// three points: the user's input, the retrieved passages, the model's output.
// One GuardrailRun per request holds its decisions (for the trace, metrics and
// the response's extension field) and the redaction mapping (to restore the
// user's own values in the reply).
import type { GuardrailsConfig } from "../config/schema.js";
import { StratumError } from "../core/errors.js";
import { redact, restore, type RedactionMapping } from "./pii/index.js";
import type { Detector, Finding, GuardrailAction } from "./types.js";

export type GuardrailStage = "input" | "retrieval" | "output";

/** One guardrail's verdict on one text; never carries the matched text itself. */
export interface GuardrailDecision {
  guardrail: string;
  stage: GuardrailStage;
  action: GuardrailAction;
  /** Finding types that triggered it (entity types, attack families, categories). */
  types: string[];
  /** Highest finding score. */
  score: number;
  /** For retrieval decisions: the passage (1-based) it concerns. */
  passage?: number;
}

/** The detectors available to guardrails (built once per process). */
export interface DetectorSet {
  pii?: Detector;
  secrets?: Detector;
  injection?: Detector;
  indirectInjection?: Detector;
  moderation?: Detector;
  /** Canary tokens: a fresh token per request, and a detector for its appearance in output. */
  canary?: { create(): { token: string; instruction: string }; detector(token: string): Detector };
}

/** Where a run's decisions are reported as trace events: the span of the stage at hand (an OpenTelemetry Span fits). */
export interface DecisionEvents {
  addEvent(name: string, attributes: Record<string, string | number | boolean | string[]>): unknown;
}

export type DecisionListener = (d: GuardrailDecision, events: DecisionEvents | undefined) => void;

interface Rule {
  action: GuardrailAction;
  types?: string[] | undefined;
  threshold: number;
}

export class Guardrails {
  constructor(
    private readonly cfg: GuardrailsConfig,
    private readonly detectors: DetectorSet,
    private readonly onDecision: DecisionListener = () => {},
  ) {}

  /** State for one request. */
  begin(): GuardrailRun {
    return new GuardrailRun(this.cfg, this.detectors, this.onDecision);
  }
}

export class GuardrailRun {
  readonly decisions: GuardrailDecision[] = [];
  private readonly redactions: RedactionMapping = new Map();
  private readonly canary: { token: string; instruction: string; detector: Detector } | undefined;

  constructor(
    private readonly cfg: GuardrailsConfig,
    private readonly detectors: DetectorSet,
    private readonly onDecision: DecisionListener,
  ) {
    const c = cfg.output.canary ? detectors.canary?.create() : undefined;
    this.canary = c && detectors.canary ? { ...c, detector: detectors.canary.detector(c.token) } : undefined;
  }

  /** A line for the system prompt that embeds this request's canary ("" when off). */
  get canaryInstruction(): string {
    return this.canary?.instruction ?? "";
  }

  /** Check the user's text; returns it (possibly redacted). Throws GuardrailBlocked on a block. */
  input(text: string): string {
    const i = this.cfg.input;
    return this.apply("input", text, [
      ["secrets", this.detectors.secrets, i.secrets],
      ["pii", this.detectors.pii, i.pii],
      ["injection", this.detectors.injection, i.injection],
      ["moderation", this.detectors.moderation, i.moderation],
    ]);
  }

  /** Indices (0-based) of the passages to keep; injected ones are dropped (block) or recorded (flag). */
  passages(texts: readonly string[]): number[] {
    const rule = this.cfg.retrieval.injection;
    const detector = this.detectors.indirectInjection;
    if (!rule || !detector || rule.action === "allow") return texts.map((_, i) => i);
    const keep: number[] = [];
    texts.forEach((text, i) => {
      const hits = relevant(detector.detect(text), rule);
      if (hits.length === 0) return keep.push(i);
      this.record({ guardrail: "injection", stage: "retrieval", action: rule.action === "block" ? "block" : "flag", types: typesOf(hits), score: maxScore(hits), passage: i + 1 });
      if (rule.action !== "block") keep.push(i);
    });
    return keep;
  }

  /**
   * Check (part of) the model's output; returns it with redactions applied.
   * Throws GuardrailBlocked on a block (moderation, canary leak).
   */
  output(text: string): string {
    const o = this.cfg.output;
    if (this.canaryLeaked(text)) throw new StratumError("GuardrailBlocked", "The answer was withheld: it revealed the system prompt.", { code: "guardrail_blocked" });
    return this.apply("output", text, [
      ["moderation", this.detectors.moderation, o.moderation],
      ["secrets", this.detectors.secrets, o.secrets],
      ["pii", this.detectors.pii, o.pii],
    ]);
  }

  /** Whether the text reveals this request's canary (recorded as a block when it does). */
  canaryLeaked(text: string): boolean {
    if (!this.canary || this.canary.detector.detect(text).length === 0) return false;
    this.record({ guardrail: "canary", stage: "output", action: "block", types: ["prompt_leak"], score: 1 });
    return true;
  }

  /** The user's own redacted values put back into the reply (placeholders the model invented stay as they are). */
  restore(text: string): string {
    return this.cfg.restoreRedacted && this.redactions.size > 0 ? restore(text, this.redactions) : text;
  }

  /** Whether any output check is configured (streams then check text as it goes). */
  get checksOutput(): boolean {
    const o = this.cfg.output;
    return Boolean(this.canary || (o.moderation && this.detectors.moderation) || (o.secrets && this.detectors.secrets) || (o.pii && this.detectors.pii));
  }

  /**
   * The span that decisions from here on are reported to (the pipeline sets
   * it as it enters each stage; trace context is passed explicitly, not
   * through async-local state).
   */
  traceTo: DecisionEvents | undefined;

  record(d: GuardrailDecision): void {
    this.decisions.push(d);
    this.onDecision(d, this.traceTo);
  }

  private apply(stage: GuardrailStage, text: string, rules: Array<[string, Detector | undefined, Rule | undefined]>): string {
    let out = text;
    for (const [name, detector, rule] of rules) {
      if (!detector || !rule || rule.action === "allow") continue;
      const hits = relevant(detector.detect(out), rule);
      if (hits.length === 0) continue;
      this.record({ guardrail: name, stage, action: rule.action, types: typesOf(hits), score: maxScore(hits) });
      if (rule.action === "block") {
        const what = stage === "input" ? "The request was refused" : "The answer was withheld";
        throw new StratumError("GuardrailBlocked", `${what} by the ${name} guardrail (${typesOf(hits).join(", ")}).`, { code: "guardrail_blocked", param: stage === "input" ? "messages" : null });
      }
      if (rule.action === "redact") out = redact(out, hits, { reversible: true, mapping: this.redactions }).text;
    }
    return out;
  }
}

function relevant(findings: Finding[], rule: Rule): Finding[] {
  return findings.filter((f) => f.score >= rule.threshold && (!rule.types || rule.types.includes(f.type)));
}

function typesOf(findings: Finding[]): string[] {
  return [...new Set(findings.map((f) => f.type))];
}

function maxScore(findings: Finding[]): number {
  return Math.round(Math.max(...findings.map((f) => f.score)) * 1000) / 1000;
}
