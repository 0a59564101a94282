import { test } from "node:test";
import assert from "node:assert/strict";
import { SecretsDetector } from "./index.js";

// A generous bound: catastrophic backtracking on 100 KB takes seconds to hours, while the
// speed targets themselves are measured by `npm run bench:guardrails`, not asserted here.
const HOSTILE_LIMIT_MS = 1_000;

const d = new SecretsDetector();
const found = (text: string) => d.detect(text).map((f) => [f.type, f.provider, text.slice(f.start, f.end)] as const);
const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

test("provider API keys", () => {
  const keys: [string, string][] = [
    ["openai", "sk-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7dE9fG1hJ3"],
    ["openai", "sk-proj-" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0_u-V"],
    ["anthropic", "sk-ant-api03-" + "Xy9_zW8vU7tS6rQ5pO4nM3lK2jI1hG0fE9dC8bA7-Zy6xW5vU4tS3rQ2pO1nM0lK"],
    ["aws", "AKIAIOSFODNN7EXAMPLE"],
    ["aws", "ASIAY34FZKBOKMUTVV7A"],
    ["github", "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"],
    ["github", "github_pat_" + "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcd"],
    ["slack", "xoxb-" + "1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"],
    ["stripe", "sk_live_" + "51HxYzAbCdEfGhIjKlMnOpQr"],
    ["stripe", "rk_live_" + "51HxYzAbCdEfGhIjKlMnOpQr"],
    ["google", "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"],
  ];
  for (const [provider, key] of keys) {
    assert.deepEqual(found(`here is my key: ${key} thanks`), [["API_KEY", provider, key]], provider);
  }
});

test("generic credentials only when the value looks random", () => {
  assert.deepEqual(found('api_key="Zx8Qm2Lp9Vb4Nw7Rt1Kc"'), [["API_KEY", "generic", "Zx8Qm2Lp9Vb4Nw7Rt1Kc"]]);
  assert.deepEqual(found("token: 9fK2mQx7LpA3vB8nR4tZ1wY6"), [["API_KEY", "generic", "9fK2mQx7LpA3vB8nR4tZ1wY6"]]);
  assert.deepEqual(found("token: aaaaaaaaaaaaaaaaaaaaaaaa"), []);
  assert.deepEqual(found("api_key = your_api_key_here"), []);
  assert.deepEqual(found("the token: it was a long conversation"), []);
});

test("not keys: prose and look-alikes", () => {
  for (const t of ["use sk-learn for that", "the task-force met", "AKIA is a prefix", "ghp_short", "xoxb-", "AIzaShort"]) {
    assert.deepEqual(found(t), [], t);
  }
});

test("PEM private keys, complete or truncated; public keys and certificates are not secrets", () => {
  const pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7V\nabc+/=\n-----END RSA PRIVATE KEY-----";
  assert.deepEqual(found(`key:\n${pem}\nbye`), [["PRIVATE_KEY", "pem", pem]]);
  const open = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC";
  assert.deepEqual(found(open), [["PRIVATE_KEY", "pem", open]]);
  assert.deepEqual(found("-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"), []);
  assert.deepEqual(found("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"), []);
});

test("JWT only when the header decodes to JSON with alg", () => {
  const jwt = `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "123", name: "x" })}.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c`;
  assert.deepEqual(found(`Authorization: ${jwt}`).map(([t]) => t), ["JWT"]);
  const noAlg = `${b64({ typ: "JWT" })}.${b64({ sub: "1" })}.abc`;
  assert.deepEqual(found(noAlg), []);
  assert.deepEqual(found("eyJhbGciOi.not-json.sig"), []);
});

test("hostile inputs: 100 KB each finishes (no catastrophic backtracking)", () => {
  const hostile = [
    "-----BEGIN RSA PRIVATE KEY-----".repeat(3_300),
    "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n".repeat(2_800),
    "eyJ".repeat(33_000),
    "eyJhbGci.".repeat(11_000),
    "sk-" + "a".repeat(100_000),
    "sk-".repeat(33_000),
    "api_key=".repeat(12_000),
    "token: ".repeat(14_000) + "x",
    "A".repeat(100_000),
    "Bearer ".repeat(14_000),
  ];
  d.detect("warm up sk-abc AKIA eyJ -----BEGIN");
  for (const h of hostile) {
    const t0 = performance.now();
    d.detect(h);
    const ms = performance.now() - t0;
    assert.ok(ms < HOSTILE_LIMIT_MS, `${JSON.stringify(h.slice(0, 12))}… took ${ms.toFixed(1)} ms`);
  }
});
