/**
 * IP prefix text ("10.0.0.0/8", "fd00::1/64"): the one parser and printer behind allowed
 * IPs, addresses, subnets and routes. A prefix keeps its host bits as written (wg sends
 * them so; the tables mask them). Control path. (src/table/prefix-trie.ts still carries
 * an identical parsePrefix/formatPrefix for the datapath's tables until it imports these.)
 */
import { ErrorCode, FerryError } from '../errors.js';
import { formatIp, parseIp } from './ip.js';

export interface IpPrefix {
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
  /** Prefix length: 0..32 or 0..128. */
  cidr: number;
}

/**
 * Parses "10.0.0.0/8", "fd00::/64", or a bare address (a /32 or /128, as wg accepts).
 * Host bits are kept. Throws FerryError(InvalidArgument) with a message naming the problem.
 */
export function parsePrefix(text: string): IpPrefix {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addr = slash < 0 ? t : t.slice(0, slash);
  if (addr.includes('%')) throw new FerryError(ErrorCode.InvalidArgument, `allowed IP "${text}": a zone index is not allowed`);
  const ip = parseIp(addr);
  if (ip === null) throw new FerryError(ErrorCode.InvalidArgument, `allowed IP "${text}": "${addr}" is not an IP address`);
  const max = ip.family === 4 ? 32 : 128;
  let cidr = max;
  if (slash >= 0) {
    const len = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(len) || Number(len) > max) {
      throw new FerryError(ErrorCode.InvalidArgument, `allowed IP "${text}": prefix length "${len}" must be an integer in [0, ${max}]`);
    }
    cidr = Number(len);
  }
  return { family: ip.family, bytes: ip.bytes, cidr };
}

/** "10.0.0.1/24": the address as held (host part kept, printed as wg prints it), then the length. */
export function formatPrefix(p: IpPrefix): string {
  return `${formatIp(p.family, p.bytes)}/${p.cidr}`;
}

/** True when bits past the prefix length are set (wg warns: "AllowedIP has nonzero host part"). */
export function hasHostBits(p: IpPrefix): boolean {
  for (let bit = p.cidr; bit < p.bytes.length * 8; bit++) {
    if ((p.bytes[bit >> 3] >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}

/** The same prefix with its host bits cleared (how a table stores it). */
export function maskPrefix(p: IpPrefix): IpPrefix {
  const bytes = new Uint8Array(p.bytes);
  for (let bit = p.cidr; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return { family: p.family, bytes, cidr: p.cidr };
}
