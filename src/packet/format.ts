/**
 * Text forms of addresses for logs, the control socket and tests. These allocate
 * strings: never call them per packet. Parsers throw FerryError on bad text (control
 * path input, not packets).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ErrorCode, FerryError } from '../errors.js';
import { MAC_LENGTH } from './constants.js';

/** "192.0.2.1" from a uint32. */
export function ipv4ToString(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** uint32 from dotted-quad text. */
export function ipv4FromString(text: string): number {
  if (!isIPv4(text)) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv4 address: ${text}`);
  const p = text.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** RFC 5952 text of the 16 bytes at buf[off]: lower case, longest zero run (2+ groups) as "::". */
export function ipv6ToString(buf: Uint8Array, off: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((buf[off + 2 * i] << 8) | buf[off + 2 * i + 1]);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Writes the 16 bytes of IPv6 text (any valid form, embedded IPv4 included) at out[off]. */
export function ipv6FromString(text: string, out: Uint8Array, off: number): void {
  if (!isIPv6(text)) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv6 address: ${text}`);
  let s = text;
  const dot = s.lastIndexOf('.');
  if (dot >= 0) {
    const colon = s.lastIndexOf(':');
    const v4 = ipv4FromString(s.slice(colon + 1));
    s = `${s.slice(0, colon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const gap = s.indexOf('::');
  const head = gap < 0 ? s.split(':') : s.slice(0, gap) === '' ? [] : s.slice(0, gap).split(':');
  const tail = gap < 0 ? [] : s.slice(gap + 2) === '' ? [] : s.slice(gap + 2).split(':');
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  for (let i = 0; i < 8; i++) {
    const v = parseInt(groups[i], 16);
    out[off + 2 * i] = v >>> 8;
    out[off + 2 * i + 1] = v & 0xff;
  }
}

/** "aa:bb:cc:dd:ee:ff" of the MAC at buf[off]. */
export function macToString(buf: Uint8Array, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < MAC_LENGTH; i++) parts.push(buf[off + i].toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Writes the MAC in "aa:bb:cc:dd:ee:ff" (or '-' separated) text at out[off]. */
export function macFromString(text: string, out: Uint8Array, off: number): void {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) {
    throw new FerryError(ErrorCode.InvalidArgument, `not a MAC address: ${text}`);
  }
  for (let i = 0; i < MAC_LENGTH; i++) out[off + i] = parseInt(text.slice(3 * i, 3 * i + 2), 16);
}

/** Hex dump helper for tests and debug logs: "4500 0073 ..." → bytes. Whitespace ignored. */
export function hexToBytes(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new FerryError(ErrorCode.InvalidArgument, 'hex text must be pairs of hex digits');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
