import { bytesToIpv6 } from '../io/endpoint.js';
import type { IpPrefix } from '../wireguard/allowed-ips.js';

/**
 * IP text exactly as wg prints it: glibc's inet_ntop. That is RFC 5952 form, plus one
 * old rule: an IPv6 address whose first 96 bits are zero and whose next 16 are not is
 * printed as IPv4-compatible ("::1.2.3.4"), which io/endpoint's formatter does not do.
 */
export function formatIp(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  let zeros = true;
  for (let i = 0; i < 12; i++) if (bytes[i] !== 0) zeros = false;
  if (zeros && (bytes[12] !== 0 || bytes[13] !== 0)) return `::${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  return bytesToIpv6(bytes, 0);
}

/** "10.0.0.1/24": address as held (host part kept), then the prefix length. */
export function formatPrefixText(p: IpPrefix): string {
  return `${formatIp(p.family, p.bytes)}/${p.cidr}`;
}

/** True when bits past the prefix length are set (wg warns: "AllowedIP has nonzero host part"). */
export function hasHostBits(p: IpPrefix): boolean {
  for (let bit = p.cidr; bit < p.bytes.length * 8; bit++) {
    if ((p.bytes[bit >> 3] >> (7 - (bit & 7))) & 1) return true;
  }
  return false;
}
