/**
 * MAC and hex text for logs, the control socket and tests; IP text is src/text/ip.ts,
 * re-exported here under the names the packet tests use. These allocate strings: never
 * call them per packet. Parsers throw FerryError on bad text (control path input, not
 * packets).
 */
import { ErrorCode, FerryError } from '../errors.js';
import { MAC_LENGTH } from './constants.js';

export { ipv4FromString, ipv4ToString, ipv6FromString, ipv6ToString } from '../text/ip.js';

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
