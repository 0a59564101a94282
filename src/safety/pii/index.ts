// PII: validated detection (email, phone, payment card, IBAN, US SSN, IP address) and typed,
// reversible redaction.
export { PiiDetector, PII_ENTITIES, DEFAULT_PHONE_REGIONS, type PiiEntity, type PiiDetectorOptions } from "./detector.js";
export { redact, restore, type RedactOptions, type RedactResult, type RedactionMapping } from "./redact.js";
export { resolveOverlaps } from "./overlaps.js";
export { luhnValid, cardBrand, ibanValid, ssnValid, ipv4Valid, ipv6Valid, shannonEntropy, IBAN_LENGTHS, type CardBrand } from "./validators.js";
export type { CountryCode } from "./phone.js";
