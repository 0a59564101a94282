// The built-in detectors every pipeline's guardrails can use (weights-free,
// in process). A model-backed detector (LLM judge) plugs in here too.
import type { DetectorSet } from "../safety/index.js";

export function builtInDetectors(): DetectorSet {
  return {};
}
