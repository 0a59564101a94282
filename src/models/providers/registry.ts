// Builds provider instances from config. `extractive` and `sim` exist even
// when not declared, so the embedded default needs no configuration.
import type { ProviderConfig } from "../../config/schema.js";
import type { ChatProvider } from "../provider.js";
import { createAnthropicProvider } from "./anthropic.js";
import { createExtractiveProvider } from "./extractive.js";
import { createGgufProvider } from "./gguf.js";
import { createOpenAIProvider } from "./openai-compatible.js";
import { createSimProvider } from "./sim.js";
import { ExtractiveProviderSchema, SimProviderSchema } from "../../config/schema.js";

export function createProvider(name: string, cfg: ProviderConfig): ChatProvider {
  switch (cfg.type) {
    case "openai":
      return createOpenAIProvider(name, cfg);
    case "anthropic":
      return createAnthropicProvider(name, cfg);
    case "sim":
      return createSimProvider(name, cfg);
    case "extractive":
      return createExtractiveProvider(name, cfg);
    case "gguf":
      return createGgufProvider(name, cfg);
  }
}

export function createProviders(configs: Record<string, ProviderConfig>): Map<string, ChatProvider> {
  const out = new Map<string, ChatProvider>();
  for (const [name, cfg] of Object.entries(configs)) out.set(name, createProvider(name, cfg));
  if (!out.has("extractive")) out.set("extractive", createExtractiveProvider("extractive", ExtractiveProviderSchema.parse({ type: "extractive" })));
  if (!out.has("sim")) out.set("sim", createSimProvider("sim", SimProviderSchema.parse({ type: "sim" })));
  return out;
}
