import type { IncomingHttpHeaders } from "node:http";
import { StratumError } from "../../core/errors.js";
import type { ApiKeyRecord } from "../../data/types.js";
import type { KeyService } from "./key-service.js";

/** Bearer token (OpenAI clients) or x-api-key (Anthropic clients). */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const auth = headers.authorization;
  if (auth) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1];
  }
  const x = headers["x-api-key"];
  return typeof x === "string" && x ? x.trim() : undefined;
}

export async function authenticate(keys: KeyService, headers: IncomingHttpHeaders): Promise<ApiKeyRecord> {
  const key = presentedKey(headers);
  if (!key) {
    throw new StratumError("Unauthorized", "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY' (or 'x-api-key').", { code: "missing_api_key" });
  }
  if (key.length > 256) throw new StratumError("Unauthorized", "Incorrect API key provided.", { code: "invalid_api_key" });
  const record = await keys.verify(key);
  if (!record) throw new StratumError("Unauthorized", `Incorrect API key provided: ${redact(key)}.`, { code: "invalid_api_key" });
  return record;
}

export function requireAdmin(record: ApiKeyRecord): void {
  if (record.role !== "admin") throw new StratumError("Forbidden", "This endpoint requires an admin key.", { code: "admin_required" });
}

function redact(key: string): string {
  return key.length <= 8 ? "****" : `${key.slice(0, 4)}****${key.slice(-4)}`;
}
