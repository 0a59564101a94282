// Server-side request forgery guard: a URL given to the server may only reach
// public unicast addresses. Everything else (loopback, private, link-local
// e.g. cloud metadata at 169.254.169.254, unique-local, CGNAT, multicast,
// unspecified, reserved, IPv4-mapped/NAT64/6to4 forms of those) is refused
// unless explicitly allowed. Default-deny: only ipaddr.js's "unicast" passes.
import { lookup as dnsLookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { IngestError } from "./errors.js";

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) => {
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Why an address may not be contacted, or undefined when it is public unicast. */
export function blockedReason(address: string): string | undefined {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address);
  } catch {
    return "not an IP address";
  }
  if (ip.kind() === "ipv6") {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) {
      const inner = blockedReason(v6.toIPv4Address().toString());
      return inner ? `IPv4-mapped ${inner}` : undefined;
    }
  }
  const range = ip.range();
  return range === "unicast" ? undefined : `${range} address`;
}

export interface GuardOptions {
  allowPrivate?: boolean;
  /** Exact addresses allowed even though they are not public (e.g. an internal docs server). */
  allowAddresses?: readonly string[];
  resolver?: Resolver;
}

function allowed(address: string, opts: GuardOptions): boolean {
  if (opts.allowPrivate) return true;
  if (opts.allowAddresses?.length) {
    const norm = ipaddr.process(address).toString();
    if (opts.allowAddresses.some((a) => ipaddr.process(a).toString() === norm)) return true;
  }
  return blockedReason(address) === undefined;
}

/**
 * Resolves the URL's host and checks EVERY address (an attacker's DNS may mix
 * a public and a private answer). Returns the address to connect to.
 */
export async function vetHost(url: URL, opts: GuardOptions = {}): Promise<ResolvedAddress> {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new IngestError("blocked_url", `${url.href}: only http and https URLs can be fetched`);
  if (url.username || url.password) throw new IngestError("blocked_url", `${url.href}: URLs with credentials are not fetched`);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === "ipv6" ? 6 : 4 }];
  } else {
    try {
      addresses = await (opts.resolver ?? systemResolver)(host);
    } catch (e) {
      throw new IngestError("fetch_failed", `${url.href}: cannot resolve host "${host}"`, e);
    }
    if (!addresses.length) throw new IngestError("fetch_failed", `${url.href}: host "${host}" has no addresses`);
  }
  for (const a of addresses) {
    if (!allowed(a.address, opts)) {
      throw new IngestError("blocked_url", `${url.href}: refused, "${host}" resolves to ${a.address} (${blockedReason(a.address) ?? "not allowed"})`);
    }
  }
  return addresses[0]!;
}
