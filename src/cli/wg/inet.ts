/**
 * Address text exactly as glibc's inet_pton()/inet_ntop() and getnameinfo(NI_NUMERICHOST)
 * read and write it, since wg(8) parses allowed IPs with inet_pton and prints everything
 * through inet_ntop: "::ffff:1.2.3.4", "::1.2.3.4", the first longest zero run compressed.
 */
import { ifIndexToName } from '../../io/ifindex.js';

/** A resolved socket address (struct sockaddr_in / sockaddr_in6). */
export interface SockAddr {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  addr: Uint8Array;
  port: number;
  /** IPv6 sin6_scope_id; 0 when none. */
  scopeId: number;
}

/** glibc inet_pton4: exactly four decimal octets, no leading zeros, each at most 255. */
export function inetPton4(s: string): Uint8Array | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function hexDigit(c: string): number {
  const n = '0123456789abcdef'.indexOf(c.toLowerCase());
  return c.length === 1 ? n : -1;
}

/** glibc inet_pton6: groups of 1-4 hex digits, one "::", an optional trailing dotted quad. */
export function inetPton6(s: string): Uint8Array | null {
  const out = new Uint8Array(16);
  let tp = 0;
  let colonp = -1;
  let i = 0;
  if (s.startsWith(':')) {
    if (s[1] !== ':') return null;
    i = 1;
  }
  let curtok = i;
  let sawXdigit = false;
  let val = 0;
  let digits = 0;
  for (; i < s.length; i++) {
    const ch = s[i];
    const d = hexDigit(ch);
    if (d >= 0) {
      if (++digits > 4) return null;
      val = (val << 4) | d;
      sawXdigit = true;
      continue;
    }
    if (ch === ':') {
      curtok = i + 1;
      if (!sawXdigit) {
        if (colonp >= 0) return null;
        colonp = tp;
        continue;
      }
      if (i + 1 >= s.length) return null;
      if (tp + 2 > 16) return null;
      out[tp++] = (val >> 8) & 0xff;
      out[tp++] = val & 0xff;
      sawXdigit = false;
      digits = 0;
      val = 0;
      continue;
    }
    if (ch === '.' && tp + 4 <= 16) {
      const v4 = inetPton4(s.slice(curtok));
      if (v4 === null) return null;
      out.set(v4, tp);
      tp += 4;
      sawXdigit = false;
      break;
    }
    return null;
  }
  if (sawXdigit) {
    if (tp + 2 > 16) return null;
    out[tp++] = (val >> 8) & 0xff;
    out[tp++] = val & 0xff;
  }
  if (colonp >= 0) {
    if (tp === 16) return null;
    const n = tp - colonp;
    for (let k = 1; k <= n; k++) {
      out[16 - k] = out[colonp + n - k];
      out[colonp + n - k] = 0;
    }
    tp = 16;
  }
  return tp === 16 ? out : null;
}

export function inetNtop4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** glibc inet_ntop6: lower-case hex, the first longest run (>= 2 groups) of zeros as "::". */
export function inetNtop6(b: Uint8Array, off = 0): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[off + 2 * i] << 8) | b[off + 2 * i + 1]);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) [bestBase, bestLen] = [curBase, curLen];
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) [bestBase, bestLen] = [curBase, curLen];
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    // An IPv4-compatible or IPv4-mapped address ends in a dotted quad.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += inetNtop4(b, off + 12);
      return out;
    }
    out += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function inetNtop(family: 4 | 6, b: Uint8Array): string {
  return family === 4 ? inetNtop4(b) : inetNtop6(b);
}

function isLinkLocalScope(a: Uint8Array): boolean {
  const linkLocal = a[0] === 0xfe && (a[1] & 0xc0) === 0x80;
  const mcLinkLocal = a[0] === 0xff && (a[1] & 0x0f) === 0x02;
  return linkLocal || mcLinkLocal;
}

/**
 * getnameinfo(NI_NUMERICHOST | NI_NUMERICSERV) followed by wg's "%s:%s" or "[%s]:%s":
 * a link-local scope is printed as the interface name when it exists, else as a number.
 */
export function formatSockAddr(sa: SockAddr): string {
  if (sa.family === 4) return `${inetNtop4(sa.addr)}:${sa.port}`;
  let host = inetNtop6(sa.addr);
  if (sa.scopeId !== 0) {
    const name = isLinkLocalScope(sa.addr) ? ifIndexToName(sa.scopeId) : null;
    host += `%${name ?? sa.scopeId}`;
  }
  return host.includes(':') ? `[${host}]:${sa.port}` : `${host}:${sa.port}`;
}
