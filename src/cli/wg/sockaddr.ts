/**
 * A resolved socket address as wg(8) holds one (struct sockaddr_in / sockaddr_in6), and
 * how wg prints it: getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV), then "%s:%s" or
 * "[%s]:%s", a link-local scope named after its interface when that exists.
 */
import { ifIndexToName } from '../../io/ifindex.js';
import { formatIpv4, formatIpv6 } from '../../text/ip.js';

export interface SockAddr {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  addr: Uint8Array;
  port: number;
  /** IPv6 sin6_scope_id; 0 when none. */
  scopeId: number;
}

function isLinkLocalScope(a: Uint8Array): boolean {
  const linkLocal = a[0] === 0xfe && (a[1] & 0xc0) === 0x80;
  const mcLinkLocal = a[0] === 0xff && (a[1] & 0x0f) === 0x02;
  return linkLocal || mcLinkLocal;
}

export function formatSockAddr(sa: SockAddr): string {
  if (sa.family === 4) return `${formatIpv4(sa.addr)}:${sa.port}`;
  let host = formatIpv6(sa.addr);
  if (sa.scopeId !== 0) {
    const name = isLinkLocalScope(sa.addr) ? ifIndexToName(sa.scopeId) : null;
    host += `%${name ?? sa.scopeId}`;
  }
  return host.includes(':') ? `[${host}]:${sa.port}` : `${host}:${sa.port}`;
}
