import { test } from "node:test";
import assert from "node:assert/strict";
import { PiiDetector, type PiiEntity } from "./index.js";
import { luhnValid, ibanValid, ssnValid, cardBrand } from "./validators.js";

// A generous bound: catastrophic backtracking on 100 KB takes seconds to hours, while the
// speed targets themselves are measured by `npm run bench:guardrails`, not asserted here.
const HOSTILE_LIMIT_MS = 1_000;

const d = new PiiDetector();
const found = (text: string, det = d) => det.detect(text).map((f) => [f.type, text.slice(f.start, f.end)] as const);
const types = (text: string, det = d) => found(text, det).map(([t]) => t);
const only = (text: string, type: PiiEntity) => found(text).filter(([t]) => t === type).map(([, v]) => v);

test("EMAIL: addresses with a real TLD shape; not handles, not broken addresses", () => {
  assert.deepEqual(only("mail UtaKortig@jourrapide.com today", "EMAIL"), ["UtaKortig@jourrapide.com"]);
  assert.deepEqual(only("to: first.last+tag@sub.example.co.uk.", "EMAIL"), ["first.last+tag@sub.example.co.uk"]);
  assert.deepEqual(only("ping @someone or user@localhost or a@b.c or x@1.2", "EMAIL"), []);
  assert.deepEqual(only("bad..dots@example.com", "EMAIL"), []);
});

test("PHONE: validated numbers, international and national; not dates, ids or bare runs", () => {
  assert.deepEqual(only("call me at (415) 555-2671 please", "PHONE"), ["(415) 555-2671"]);
  assert.deepEqual(only("They're not answering at 780-999-2181", "PHONE"), ["780-999-2181"]);
  assert.deepEqual(only("Desk: +1-604-696-5272x565", "PHONE"), ["+1-604-696-5272x565"]);
  assert.deepEqual(only("office +46 (0)8 928 571 38 fax", "PHONE"), ["+46 (0)8 928 571 38"]);
  assert.deepEqual(only("Mobile: 0341 8387176", "PHONE"), ["0341 8387176"]);
  assert.deepEqual(only("Fax: 9498777106", "PHONE"), ["9498777106"]);
  // National numbers of other regions need a phone word nearby; a street number does not get one.
  assert.deepEqual(only("The restaurant is at 704 1436 Redbud Drive", "PHONE"), []);
  assert.deepEqual(only("When: 2000-04-16 11:34:35", "PHONE"), []);
  assert.deepEqual(only("On 12/05/2021 we met", "PHONE"), []);
  assert.deepEqual(only("order 1234567", "PHONE"), []);
  assert.deepEqual(only("My zip code is 90010-170", "PHONE"), []);
});

test("PHONE: default region is configurable", () => {
  const gb = new PiiDetector({ defaultRegion: "GB", phoneRegions: [] });
  assert.deepEqual(found("ring 020 7946 0958 now", gb), [["PHONE", "020 7946 0958"]]);
  const us = new PiiDetector({ defaultRegion: "US", phoneRegions: [] });
  assert.deepEqual(found("see 020 7946 0958 now", us), []);
});

test("CREDIT_CARD: Luhn + IIN, grouped or not; Luhn-invalid and unknown prefixes rejected", () => {
  assert.deepEqual(only("card 4111 1111 1111 1111 exp 12/29", "CREDIT_CARD"), ["4111 1111 1111 1111"]);
  assert.deepEqual(only("amex 3782-822463-10005", "CREDIT_CARD"), ["3782-822463-10005"]);
  assert.deepEqual(only("pay with 5555555555554444", "CREDIT_CARD"), ["5555555555554444"]);
  assert.deepEqual(only("4111 1111 1111 1112", "CREDIT_CARD"), [], "Luhn-invalid");
  assert.deepEqual(only("ref 9111111111111111", "CREDIT_CARD").length, 0, "no network starts with 9, no card word");
  assert.deepEqual(only("tracking 1234 5678 9012 3456", "CREDIT_CARD"), []);
  assert.equal(luhnValid("79927398713"), true);
  assert.equal(luhnValid("79927398710"), false);
  assert.equal(cardBrand("378282246310005"), "amex");
  assert.equal(cardBrand("4111111111111111"), "visa");
  assert.equal(cardBrand("2221000000000009"), "mastercard");
});

test("CREDIT_CARD: Luhn-valid number outside known IIN ranges only with a card word", () => {
  assert.deepEqual(only("my credit card 3598899323053410 is lost", "CREDIT_CARD"), ["3598899323053410"]);
  assert.deepEqual(only("id 3598899323053410", "CREDIT_CARD"), []);
});

test("IBAN: length table + mod-97, compact or grouped, any case; bad check digits rejected", () => {
  assert.deepEqual(only("IBAN GB82 WEST 1234 5698 7654 32 thanks", "IBAN"), ["GB82 WEST 1234 5698 7654 32"]);
  assert.deepEqual(only("to DE89370400440532013000.", "IBAN"), ["DE89370400440532013000"]);
  assert.deepEqual(only("gb42nawi04454264788619", "IBAN"), ["gb42nawi04454264788619"]);
  assert.deepEqual(only("GB83 WEST 1234 5698 7654 32", "IBAN"), [], "check digits off by one");
  assert.deepEqual(only("DE8937040044053201300", "IBAN"), [], "one char short for DE");
  assert.equal(ibanValid("NL91ABNA0417164300"), true);
  assert.equal(ibanValid("XX91ABNA0417164300"), false);
});

test("US_SSN: SSA rules; bare 9 digits only with an SSN word", () => {
  assert.deepEqual(only("SSN 460-89-9847", "US_SSN"), ["460-89-9847"]);
  assert.deepEqual(only("SSN: 460 89 9847", "US_SSN"), ["460 89 9847"]);
  for (const bad of ["000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"]) {
    assert.deepEqual(only(`ssn ${bad}`, "US_SSN"), [], bad);
  }
  assert.deepEqual(only("invoice 460899847", "US_SSN"), []);
  assert.deepEqual(only("social security number: 460899847", "US_SSN"), ["460899847"]);
  assert.equal(ssnValid("123", "45", "6789"), true);
  assert.equal(ssnValid("078", "05", "1120"), false, "the Woolworth wallet SSN");
});

test("IP_ADDRESS: IPv4 0-255, IPv6 via node:net; version numbers are not addresses", () => {
  assert.deepEqual(only("from 192.168.1.20, then", "IP_ADDRESS"), ["192.168.1.20"]);
  assert.deepEqual(only("host 6e40:4041:c617:e898:c11:40d2:c669:2eb4 up", "IP_ADDRESS"), ["6e40:4041:c617:e898:c11:40d2:c669:2eb4"]);
  assert.deepEqual(only("loopback ::1 and fe80::1ff:fe23:4567:890a%eth0", "IP_ADDRESS"), ["fe80::1ff:fe23:4567:890a%eth0"]);
  assert.deepEqual(only("999.1.1.1 and 256.0.0.1", "IP_ADDRESS"), []);
  // Decision: a dotted quad right after "version"/"v"/"build"/"release" is a version number, not an address.
  assert.deepEqual(only("upgrade to version 1.2.3.4 today", "IP_ADDRESS"), []);
  assert.deepEqual(only("build: 10.0.19041.1", "IP_ADDRESS"), []);
  assert.deepEqual(only("v1.2.3.4 and 1.2.3.4.5", "IP_ADDRESS"), []);
  assert.deepEqual(only("at 12:30:45 on std::vector", "IP_ADDRESS"), []);
});

test("entity types are configurable", () => {
  const text = "mail a.b@example.com or 192.168.0.1";
  assert.deepEqual(types(text), ["EMAIL", "IP_ADDRESS"]);
  assert.deepEqual(types(text, new PiiDetector({ entities: ["IP_ADDRESS"] })), ["IP_ADDRESS"]);
});

test("findings carry spans and scores; overlaps resolved to one finding", () => {
  const text = "SSN 460-89-9847 card 4111-1111-1111-1111";
  const fs = d.detect(text);
  assert.deepEqual(fs.map((f) => f.type), ["US_SSN", "CREDIT_CARD"]);
  for (const f of fs) {
    assert.equal(f.detector, "pii");
    assert.ok(f.score > 0 && f.score <= 1);
    assert.ok(f.start! < f.end!);
  }
  for (let i = 1; i < fs.length; i++) assert.ok(fs[i]!.start! >= fs[i - 1]!.end!);
});

test("hostile inputs: 100 KB each finishes (no catastrophic backtracking)", () => {
  const hostile = [
    "1".repeat(100_000),
    "1 ".repeat(50_000),
    "1-".repeat(50_000),
    "1.".repeat(50_000),
    "a".repeat(100_000) + "@",
    "a@" + "a.".repeat(50_000),
    "a@".repeat(50_000),
    ":".repeat(100_000),
    "a:".repeat(50_000),
    "GB82".repeat(25_000),
    "(1) ".repeat(25_000),
    "+1 ".repeat(33_000),
    "x".repeat(50_000) + "4111111111111111",
    "call 415 555 2671, ".repeat(5_000),
    "0490 75 40 81\n".repeat(7_000),
    Array.from({ length: 5_000 }, (_, i) => `tel 415 555 ${String(1000 + i)}`).join(", "),
  ];
  d.detect("warm up 4111 1111 1111 1111 a@b.com 1.2.3.4 +1 202 555 0143");
  for (const h of hostile) {
    const t0 = performance.now();
    d.detect(h);
    const ms = performance.now() - t0;
    assert.ok(ms < HOSTILE_LIMIT_MS, `${JSON.stringify(h.slice(0, 12))}… took ${ms.toFixed(1)} ms`);
  }
});

