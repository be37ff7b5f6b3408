/** Addresses held as bytes (16, IPv4 in the first 4) as text, for the control path. */
import { ipv4ToString, ipv6ToString } from '../packet/format.js';

export function addressText(family: number, buf: Uint8Array, off = 0): string {
  if (family === 4) return ipv4ToString(((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0);
  return ipv6ToString(buf, off);
}

/** "10.96.0.10:80" or "[fd00:96::10]:80". */
export function endpointText(family: number, buf: Uint8Array, port: number): string {
  const a = addressText(family, buf);
  return family === 4 ? `${a}:${port}` : `[${a}]:${port}`;
}
