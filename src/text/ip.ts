/**
 * IP address text for every layer, one implementation: glibc's inet_pton() and
 * inet_ntop(), since wg(8) reads allowed IPs with inet_pton and prints everything through
 * inet_ntop ("::ffff:1.2.3.4", "::1.2.3.4", the first longest zero run compressed), and
 * ferry prints addresses as wg does. The packet codecs' tests and logs also get a
 * uint32 form for IPv4 and a plain-hex form for IPv6 (the WHATWG URL serializer's).
 * These allocate strings: control path, logs and tests only, never per packet.
 */
import { ErrorCode, FerryError } from '../errors.js';

/** glibc inet_pton4: exactly four decimal octets, no leading zeros, each at most 255. */
export function parseIpv4(s: string): Uint8Array | null {
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

/** glibc inet_pton6: groups of 1-4 hex digits, one "::", an optional trailing dotted quad; no zone. */
export function parseIpv6(s: string): Uint8Array | null {
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
      const v4 = parseIpv4(s.slice(curtok));
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

/** Either family: the 4 or 16 bytes of an address literal, or null. */
export function parseIp(s: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const v4 = parseIpv4(s);
  if (v4 !== null) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(s);
  return v6 === null ? null : { family: 6, bytes: v6 };
}

export function formatIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * glibc inet_ntop6: lower-case hex, the first longest run (>= 2 groups) of zeros as "::",
 * and (unless plainHex) an IPv4-compatible or IPv4-mapped address ending in a dotted quad.
 */
export function formatIpv6(b: Uint8Array, off = 0, plainHex = false): string {
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
    if (!plainHex && i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      return out + formatIpv4(b, off + 12);
    }
    out += words[i].toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) out += ':';
  return out;
}

export function formatIp(family: 4 | 6, b: Uint8Array, off = 0): string {
  return family === 4 ? formatIpv4(b, off) : formatIpv6(b, off);
}

/** "192.0.2.1" from a uint32 (how packet headers hold IPv4 addresses). */
export function ipv4ToString(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** uint32 from dotted-quad text; throws FerryError(InvalidArgument) on anything else. */
export function ipv4FromString(text: string): number {
  const b = parseIpv4(text);
  if (b === null) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv4 address: ${text}`);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

/** RFC 5952 text of the 16 bytes at buf[off] in plain hex (no dotted tail), as URLs write it. */
export function ipv6ToString(buf: Uint8Array, off: number): string {
  return formatIpv6(buf, off, true);
}

/** Writes the 16 bytes of IPv6 text (any valid form, embedded IPv4 included) at out[off]; throws on bad text. */
export function ipv6FromString(text: string, out: Uint8Array, off: number): void {
  const b = parseIpv6(text);
  if (b === null) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv6 address: ${text}`);
  out.set(b, off);
}
