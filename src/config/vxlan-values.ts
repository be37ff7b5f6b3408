/**
 * Value parsers for [FerryVxlan] and [FerryVxlanPeer]. Each throws BadValue with a message
 * naming the key, what was wrong and what is expected; the caller adds file:line.
 */
import { isIP } from 'node:net';
import { VXLAN_VNI_MAX } from '../packet/vxlan.js';
import type { VxlanMode } from '../vxlan/settings.js';
import { quote } from './issues.js';
import { BadValue } from './values.js';
import { formatPrefix, hasHostBits, maskPrefix, parsePrefix, type IpPrefix } from '../text/prefix.js';

const DIGITS = /^\d+$/;
const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

export function parseVni(value: string): number {
  if (!DIGITS.test(value) || Number(value) > VXLAN_VNI_MAX) throw new BadValue(`VNI ${quote(value)} is invalid: expected a number 0-${VXLAN_VNI_MAX}`);
  return Number(value);
}

export function parseVxlanPort(value: string): number {
  if (!DIGITS.test(value) || Number(value) < 1 || Number(value) > 65535) throw new BadValue(`Port ${quote(value)} is invalid: expected a port 1-65535 (8472 as Linux and flannel, 4789 as IANA)`);
  return Number(value);
}

/** An underlay address: an IPv4 or IPv6 literal (no port, no scope). */
export function parseUnderlayAddress(key: string, value: string): { address: string; family: 4 | 6 } {
  const family = isIP(value);
  if (family !== 4 && family !== 6) throw new BadValue(`${key} ${quote(value)} is not an IP address: expected an IPv4 or IPv6 address without a port`);
  return { address: value, family };
}

/** A VTEP MAC: six hex pairs with colons, unicast and not all zero. */
export function parseVtepMac(value: string): Uint8Array {
  if (!MAC.test(value)) throw new BadValue(`VtepMAC ${quote(value)} is not a MAC address: expected six hex pairs like 02:a1:b2:c3:d4:e5`);
  const mac = Uint8Array.from(value.split(':').map((h) => parseInt(h, 16)));
  if ((mac[0] & 1) !== 0) throw new BadValue(`VtepMAC ${quote(value)} is a group (multicast) address: expected a unicast MAC`);
  if (mac.every((b) => b === 0)) throw new BadValue(`VtepMAC ${quote(value)} is all zero: expected a unicast MAC`);
  return mac;
}

export function parseMode(value: string): VxlanMode {
  const v = value.toLowerCase();
  if (v === 'l3' || v === 'l2') return v;
  throw new BadValue(`Mode ${quote(value)} is invalid: expected l3 (a TUN, flannel.1's role) or l2 (a TAP)`);
}

/** Comma-separated prefixes, each without host bits. */
export function parseSubnets(value: string): IpPrefix[] {
  const out: IpPrefix[] = [];
  for (const raw of value.split(',')) {
    const text = raw.trim();
    if (text === '') throw new BadValue('Subnets has an empty entry: expected a comma-separated list of ADDRESS/PREFIX');
    const slash = text.indexOf('/');
    const addr = slash < 0 ? text : text.slice(0, slash);
    if (isIP(addr) === 0) throw new BadValue(`Subnets entry ${quote(text)}: ${quote(addr)} is not an IP address: expected ADDRESS/PREFIX`);
    let p: IpPrefix;
    try {
      p = parsePrefix(text);
    } catch {
      throw new BadValue(`Subnets entry ${quote(text)} has a bad prefix length: expected 0-${isIP(addr) === 4 ? 32 : 128}`);
    }
    if (hasHostBits(p)) throw new BadValue(`Subnets entry ${quote(text)} has host bits set: expected ${formatPrefix(maskPrefix(p))}`);
    out.push(p);
  }
  return out;
}
