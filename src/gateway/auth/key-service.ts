// API keys: generated with 192 bits of randomness, stored as sha256 (a fast
// hash is right for high-entropy secrets; bcrypt is for passwords), each
// belonging to a tenant. Lookups are cached briefly; revocation in this
// process takes effect at once, from another process within `cacheTtlMs`.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { StratumError } from "../../core/errors.js";
import type { ApiKeyLimits, ApiKeyRecord, KeyRole, KeyStore } from "../../data/types.js";

export const KEY_PREFIX = "sk-stratum-";

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

export function generateKey(): string {
  return KEY_PREFIX + randomBytes(24).toString("base64url");
}

export interface CreateKeyInput {
  tenant: string;
  name?: string;
  role?: KeyRole;
  limits?: ApiKeyLimits;
  /** Use this key instead of generating one (e.g. STRATUM_API_KEY). */
  key?: string;
}

export class KeyService {
  private readonly cache = new Map<string, { record: ApiKeyRecord | undefined; expires: number }>();

  constructor(
    private readonly store: KeyStore,
    private readonly cacheTtlMs = 2_000,
    /** Called after a revocation here (replicas tell each other to forget cached lookups). */
    private readonly onRevoked: () => void = () => {},
  ) {}

  /** Drop cached lookups (another replica revoked a key). */
  forgetCached(): void {
    this.cache.clear();
  }

  async create(input: CreateKeyInput): Promise<{ key: string; record: ApiKeyRecord }> {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(input.tenant)) {
      throw new StratumError("InvalidRequest", "tenant must be 1-64 characters of letters, digits, _ . -", { param: "tenant" });
    }
    const key = input.key ?? generateKey();
    const record: ApiKeyRecord = {
      id: "key_" + randomUUID().replaceAll("-", "").slice(0, 20),
      tenant: input.tenant,
      name: input.name ?? "",
      role: input.role ?? "user",
      hash: hashKey(key),
      prefix: key.slice(0, KEY_PREFIX.length + 4),
      limits: input.limits ?? {},
      createdAt: Date.now(),
      revokedAt: null,
    };
    await this.store.create(record);
    return { key, record };
  }

  /** The active key record for a presented key when the cache holds it (no await: the common case). */
  cachedActive(key: string): ApiKeyRecord | undefined {
    const hit = this.cache.get(key);
    return hit && hit.expires > Date.now() ? hit.record : undefined;
  }

  /**
   * The active key record for a presented key, or undefined. The short-lived
   * cache is keyed by the presented key itself (already in memory as a header),
   * so a hit costs no hash.
   */
  async verify(key: string): Promise<ApiKeyRecord | undefined> {
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.record;
    const found = await this.store.findByHash(hashKey(key));
    const record = found && found.revokedAt === null ? found : undefined;
    if (this.cache.size > 10_000) this.cache.clear(); // bounded: random bad keys cannot grow it
    this.cache.set(key, { record, expires: now + this.cacheTtlMs });
    return record;
  }

  list(filter?: { tenant?: string; includeRevoked?: boolean }): Promise<ApiKeyRecord[]> {
    return this.store.list(filter);
  }

  async revoke(id: string): Promise<boolean> {
    const ok = await this.store.revoke(id, Date.now());
    if (ok) {
      this.cache.clear();
      this.onRevoked();
    }
    return ok;
  }

  /**
   * Make sure an admin key exists. With `envKey` (STRATUM_API_KEY) that key is
   * registered if new; otherwise a key is generated on first start and
   * returned so the caller can print it once.
   */
  async ensureAdmin(envKey: string | undefined): Promise<{ created?: string }> {
    if (envKey) {
      if (await this.store.findByHash(hashKey(envKey))) return {};
      try {
        await this.create({ tenant: "default", name: "admin (STRATUM_API_KEY)", role: "admin", key: envKey });
      } catch (e) {
        // Replicas starting together race to register the same key: losing that race is fine.
        if (!(await this.store.findByHash(hashKey(envKey)))) throw e;
      }
      return {};
    }
    if ((await this.store.countAdmins()) > 0) return {};
    const { key } = await this.create({ tenant: "default", name: "admin", role: "admin" });
    return { created: key };
  }
}

/** A key as shown in listings: never the hash, never the key. */
export function publicKeyView(r: ApiKeyRecord) {
  return { id: r.id, tenant: r.tenant, name: r.name, role: r.role, prefix: r.prefix, limits: r.limits, created_at: r.createdAt, revoked_at: r.revokedAt };
}
