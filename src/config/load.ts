// Loads, env-overrides and validates the config. Errors name the bad field.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { lazyModule } from "../core/lazy-module.js";
import type { z } from "zod";
import { formatFieldPath } from "../core/field-path.js";
import { ConfigSchema, ModelAliasSchema, PipelineSchema, type Config, type ConfigInput, type ModelAliasConfig } from "./schema.js";

const yaml = lazyModule<typeof import("yaml")>("yaml");

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(issues.length ? `${message}\n  - ${issues.join("\n  - ")}` : message);
    this.name = "ConfigError";
  }
}

const DEFAULT_FILES = ["stratum.config.yaml", "stratum.config.yml", "stratum.config.json"];

export interface LoadOptions {
  /** Explicit path (--config); else STRATUM_CONFIG; else a default file in cwd if present. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function findConfigFile(opts: LoadOptions = {}): string | undefined {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const explicit = opts.path ?? env.STRATUM_CONFIG;
  if (explicit) {
    const p = resolve(cwd, explicit);
    if (!existsSync(p)) throw new ConfigError(`config file not found: ${p}`);
    return p;
  }
  return DEFAULT_FILES.map((f) => resolve(cwd, f)).find((p) => existsSync(p));
}

export function readConfigFile(path: string): unknown {
  const text = readFileSync(path, "utf8");
  try {
    return path.endsWith(".json") ? JSON.parse(text) : yaml().parse(text);
  } catch (e) {
    throw new ConfigError(`cannot parse ${path}: ${(e as Error).message}`);
  }
}

/** Load the config: file (if any) → env overrides → schema validation → built-in aliases. */
export function loadConfig(opts: LoadOptions = {}): { config: Config; path: string | undefined } {
  const env = opts.env ?? process.env;
  const path = findConfigFile(opts);
  const raw = path ? (readConfigFile(path) ?? {}) : {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError(`${path}: the top level must be a mapping`);
  return { config: parseConfig(applyEnv(raw as ConfigInput, env), path ?? "config"), path };
}

/**
 * The config of where state lives (storage, data dir, connection settings)
 * without the model sections: commands that only touch state (`stratum keys`)
 * must not need every provider's secret in env.
 */
export function loadStateConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const path = findConfigFile(opts);
  const raw = path ? (readConfigFile(path) ?? {}) : {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError(`${path}: the top level must be a mapping`);
  const r = raw as ConfigInput;
  const stateOnly: ConfigInput = { ...r, providers: {}, models: [], pipelines: [], budgets: {}, retrieval: { ...r.retrieval, embeddingModel: undefined } };
  return parseConfig(applyEnv(stateOnly, env), path ?? "config");
}

export function parseConfig(input: unknown, source = "config"): Config {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) throw new ConfigError(`invalid ${source}:`, formatIssues(parsed.error));
  return withBuiltins(parsed.data);
}

function applyEnv(raw: ConfigInput, env: NodeJS.ProcessEnv): ConfigInput {
  const out = { ...raw, server: { ...(raw.server ?? {}) } };
  if (env.HOST) out.server.host = env.HOST;
  if (env.PORT !== undefined && env.PORT !== "") {
    // Digits only: Number() would also take "1e3", "0x50" or " 80 ".
    const port = /^\d{1,5}$/.test(env.PORT) ? Number(env.PORT) : NaN;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid PORT: "${env.PORT}" (an integer 0-65535)`);
    out.server.port = port;
  }
  if (env.STRATUM_DATA_DIR) out.dataDir = env.STRATUM_DATA_DIR;
  return out;
}

/** `extractive` and `sim` are always available as models. */
function withBuiltins(cfg: Config): Config {
  const builtins: ModelAliasConfig[] = [];
  const has = (n: string) => cfg.models.some((m) => m.name === n);
  if (!has("extractive")) {
    builtins.push(ModelAliasSchema.parse({ name: "extractive", deployments: [{ provider: "extractive", model: "extractive" }], extractiveFallback: false }));
  }
  if (!has("sim")) {
    builtins.push(ModelAliasSchema.parse({ name: "sim", deployments: [{ provider: "sim", model: "sim" }], embeddings: true }));
  }
  // The built-in "assistant" pipeline, unless the name is taken.
  const pipelines = cfg.pipelines.some((p) => p.name === "assistant") || has("assistant") ? cfg.pipelines : [...cfg.pipelines, PipelineSchema.parse({
          name: "assistant",
          // Safe defaults for the built-in assistant: refuse secrets and prompt injection, drop injected passages.
          guardrails: { input: { secrets: { action: "block" }, injection: { action: "block" } }, retrieval: { injection: { action: "block" } } },
        })];
  return { ...cfg, models: [...cfg.models, ...builtins], pipelines };
}

export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${formatFieldPath(i.path) || "(root)"}: ${i.message}`);
}
