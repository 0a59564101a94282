// Secrets: provider API keys, generic high-entropy credentials, PEM private keys, JWTs.
export { SecretsDetector, SECRET_TYPES, type SecretType, type SecretFinding, type SecretsDetectorOptions } from "./detector.js";
