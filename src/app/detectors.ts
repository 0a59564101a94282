// The built-in detectors every pipeline's guardrails can use (weights-free,
// in process, pure CPU). A model-backed detector (LLM judge) plugs in here too.
import { CanaryDetector, createCanary, IndirectInjectionDetector, InjectionDetector, ModerationClassifier, PiiDetector, SecretsDetector, type DetectorSet } from "../safety/index.js";

export function builtInDetectors(): DetectorSet {
  return {
    pii: new PiiDetector(),
    secrets: new SecretsDetector(),
    injection: new InjectionDetector(),
    indirectInjection: new IndirectInjectionDetector(),
    moderation: new ModerationClassifier(),
    canary: {
      create: () => {
        const c = createCanary();
        return { token: c.token, instruction: c.line };
      },
      detector: (token) => new CanaryDetector(token),
    },
  };
}
