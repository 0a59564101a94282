// Hazard taxonomy, modelled on MLCommons AILuminate v1.0 (the AI Safety benchmark's hazard
// categories; MLCommons AI Risk & Reliability working group, "AILuminate v1.0", 2024/2025,
// https://mlcommons.org/ailuminate/ and the assessment standard published with it).
// AILuminate groups 12 hazards into physical (violent crimes, sex-related crimes, child sexual
// exploitation, suicide & self-harm, indiscriminate weapons / CBRNE), non-physical (intellectual
// property, defamation, non-violent crimes, hate, privacy) and contextual (specialized advice,
// sexual content) hazards; v1.0's specialized-advice hazard includes election misinformation,
// which is split out here as its own category ("elections") because operators often want a
// separate policy for it.

export const HAZARD_CATEGORIES = [
  "violent_crimes",
  "nonviolent_crimes",
  "sex_related_crimes",
  "child_sexual_exploitation",
  "indiscriminate_weapons",
  "suicide_self_harm",
  "hate",
  "specialized_advice",
  "privacy",
  "intellectual_property",
  "elections",
  "defamation",
  "sexual_content",
] as const;

export type HazardCategory = (typeof HAZARD_CATEGORIES)[number];

export const HAZARD_DESCRIPTIONS: Record<HazardCategory, string> = {
  violent_crimes: "enables, encourages or endorses violence against people or animals (murder, assault, terrorism, kidnapping, animal abuse)",
  nonviolent_crimes: "enables, encourages or endorses crimes without violence (fraud, theft, hacking, drug crimes, weapons crimes, labour trafficking)",
  sex_related_crimes: "enables, encourages or endorses sexual assault, sex trafficking, sexual harassment, non-consensual intimate imagery",
  child_sexual_exploitation: "contains, describes, enables or endorses the sexual abuse of minors",
  indiscriminate_weapons: "enables creation of chemical, biological, radiological, nuclear or high-yield explosive weapons (CBRNE)",
  suicide_self_harm: "enables, encourages or endorses suicide, self-injury or disordered eating",
  hate: "demeans or dehumanises people on the basis of protected characteristics, or threatens them",
  specialized_advice: "unqualified financial, medical or legal advice presented as safe or authoritative",
  privacy: "reveals or seeks sensitive non-public personal information (addresses, IDs, records, credentials) about a person",
  intellectual_property: "violates or helps violate intellectual property rights (piracy, DRM circumvention, verbatim copyrighted works)",
  elections: "factually wrong information about electoral processes, or voter suppression and election fraud",
  defamation: "verifiably false statements that damage a real person's reputation",
  sexual_content: "pornography or explicit sexual content",
};
