// The built-in detectors every pipeline's guardrails can use (weights-free,
// in process, pure CPU). A model-backed detector (LLM judge) plugs in here too.
import { CanaryDetector, createCanary, IndirectInjectionDetector, InjectionDetector } from "../safety/injection/index.js";
import type { DetectorSet } from "../safety/index.js";

export function builtInDetectors(): DetectorSet {
  return {
    injection: new InjectionDetector(),
    indirectInjection: new IndirectInjectionDetector(),
    canary: {
      create: () => {
        const c = createCanary();
        return { token: c.token, instruction: c.line };
      },
      detector: (token) => new CanaryDetector(token),
    },
  };
}
