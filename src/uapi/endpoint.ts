/**
 * Endpoints as wg(8) reads and writes them on the UAPI socket: a numeric host as
 * getaddrinfo(AI_NUMERICHOST) reads it (an IPv6 scope by interface name or number), and
 * a socket address as getnameinfo(NI_NUMERICHOST) prints it (a link-local scope named
 * after its interface when that exists), in "%s:%s" or "[%s]:%s".
 */
import { ifIndexToName, ifNameToIndex } from '../io/ifindex.js';
import type { Endpoint } from '../text/endpoint.js';
import { formatIp, formatIpv6, parseIpv4, parseIpv6 } from '../text/ip.js';

/** A dotted quad, or IPv6 with an optional %scope; the address text normalized. null: not numeric. */
export function numericHost(host: string): Omit<Endpoint, 'port'> | null {
  const v4 = parseIpv4(host);
  if (v4 !== null) return { family: 4, address: formatIp(4, v4) };
  const pct = host.indexOf('%');
  const v6 = parseIpv6(pct < 0 ? host : host.slice(0, pct));
  if (v6 === null) return null;
  const address = formatIp(6, v6);
  if (pct < 0) return { family: 6, address };
  const scope = host.slice(pct + 1);
  const n = ifNameToIndex(scope) ?? (/^[0-9]+$/.test(scope) ? Number(scope) : NaN);
  if (!Number.isInteger(n) || n > 0xffffffff) return null;
  return n === 0 ? { family: 6, address } : { family: 6, address, scopeId: n };
}

function isLinkLocalScope(a: Uint8Array): boolean {
  const linkLocal = a[0] === 0xfe && (a[1] & 0xc0) === 0x80;
  const mcLinkLocal = a[0] === 0xff && (a[1] & 0x0f) === 0x02;
  return linkLocal || mcLinkLocal;
}

/** What wg prints for an endpoint (show, showconf) and sends in a set. */
export function formatWgEndpoint(ep: Endpoint): string {
  if (ep.family === 4) return `${ep.address}:${ep.port}`;
  const bytes = parseIpv6(ep.address);
  let host = bytes === null ? ep.address : formatIpv6(bytes);
  if (ep.scopeId) {
    const name = bytes !== null && isLinkLocalScope(bytes) ? ifIndexToName(ep.scopeId) : null;
    host += `%${name ?? ep.scopeId}`;
  }
  return `[${host}]:${ep.port}`;
}
