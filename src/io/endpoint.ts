import { isIP } from 'node:net';
import { ENDPOINT_LOCAL_OFFSET, ENDPOINT_REMOTE_SIZE, ENDPOINT_STRIDE } from '../buffer/endpoint-record.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { Endpoint } from '../text/endpoint.js';
import { formatIpv6, ipv6FromString } from '../text/ip.js';

export { formatEndpoint, type Endpoint } from '../text/endpoint.js';
/** The old names of the IPv6 text helpers, for the callers not yet importing src/text/ip.ts. */
export { ipv6FromString as ipv6ToBytes, formatIpv6 as bytesToIpv6 } from '../text/ip.js';

/**
 * A UDP peer in a fixed 48-byte record, the form native/ reads and writes for every
 * datagram of a batch (no sockaddr objects, no strings on the hot path). The first 24
 * bytes are the remote part, the peer's address; the last 24 the local part, the address
 * the datagram arrived on, which replies leave from (the sticky source):
 *
 *   remote part, [0, 24) (ENDPOINT_REMOTE_SIZE):
 *   [0]      family: 4 or 6 (0 = unset)
 *   [1]      TOS / traffic class: on receive, the datagram's when the socket reports it
 *            (UdpOpenOptions.recvTos), else 0; on send, the one to send with (0: the
 *            socket's default)
 *   [2..3]   port, big-endian
 *   [4..19]  address: IPv4 in [4..7], IPv6 in [4..19]
 *   [20..23] IPv6 scope id, little-endian
 *
 *   local part, [24, 48) (ENDPOINT_LOCAL_OFFSET):
 *   [24]     family: 4 or 6 (0 = unset: the kernel picks the source)
 *   [25..27] reserved, 0
 *   [28..31] ifindex the datagram arrived on, little-endian
 *   [32..47] address: IPv4 in [32..35], IPv6 in [32..47]
 *
 * recvBatch fills both parts. sendBatch sends from the local part when it is set and of
 * the remote's family (IP_PKTINFO / IPV6_PKTINFO; the ifindex is used only for an IPv6
 * link-local source), and clears it in the batch when the kernel refuses that source
 * (the address went away or the route changed). Who identifies a peer by its address
 * (roaming, cookies, rate limits) uses the remote part only: decodeEndpoint,
 * formatEndpoint and endpointEquals mean the remote part.
 */
export { ENDPOINT_LOCAL_OFFSET, ENDPOINT_REMOTE_SIZE, ENDPOINT_STRIDE } from '../buffer/endpoint-record.js';
const LOCAL_IFINDEX = ENDPOINT_LOCAL_OFFSET + 4;
const LOCAL_ADDRESS = ENDPOINT_LOCAL_OFFSET + 8;

/** The local part of a record: where a datagram arrived, where a reply leaves from. */
export interface EndpointLocal {
  family: 4 | 6;
  address: string;
  /** Interface the datagram arrived on (0: unknown). */
  ifindex: number;
}

/**
 * Writes an endpoint record into dst at offset: the remote part from ep, the local part
 * cleared. Control path only (parses strings).
 */
export function encodeEndpoint(ep: Endpoint, dst: Uint8Array, offset = 0): void {
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) {
    throw new FerryError(ErrorCode.InvalidArgument, `port must be 0..65535, got ${ep.port}`);
  }
  dst.fill(0, offset, offset + ENDPOINT_STRIDE);
  dst[offset + 2] = ep.port >> 8;
  dst[offset + 3] = ep.port & 0xff;
  if (ep.family === 4) {
    if (isIP(ep.address) !== 4) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv4 address: ${ep.address}`);
    dst[offset] = 4;
    const parts = ep.address.split('.');
    for (let i = 0; i < 4; i++) dst[offset + 4 + i] = Number(parts[i]);
  } else {
    let addr = ep.address;
    let scope = ep.scopeId ?? 0;
    const pct = addr.indexOf('%');
    if (pct >= 0) {
      const z = addr.slice(pct + 1);
      addr = addr.slice(0, pct);
      if (/^\d+$/.test(z)) scope = Number(z);
    }
    if (isIP(addr) !== 6) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv6 address: ${ep.address}`);
    dst[offset] = 6;
    ipv6FromString(addr, dst, offset + 4);
    new DataView(dst.buffer, dst.byteOffset).setUint32(offset + 20, scope >>> 0, true);
  }
}

/** Reads the remote part of a record; null when its family byte is unset. */
export function decodeEndpoint(src: Uint8Array, offset = 0): Endpoint | null {
  const family = src[offset];
  const port = (src[offset + 2] << 8) | src[offset + 3];
  if (family === 4) {
    return { family: 4, port, address: `${src[offset + 4]}.${src[offset + 5]}.${src[offset + 6]}.${src[offset + 7]}` };
  }
  if (family === 6) {
    const scopeId = new DataView(src.buffer, src.byteOffset).getUint32(offset + 20, true);
    const ep: Endpoint = { family: 6, port, address: formatIpv6(src, offset + 4) };
    if (scopeId !== 0) ep.scopeId = scopeId;
    return ep;
  }
  return null;
}

/** True when two records name the same remote address and port (local parts ignored). Allocation-free. */
export function endpointEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < ENDPOINT_REMOTE_SIZE; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** True when two records are identical, local parts included. Allocation-free. */
export function endpointRecordEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < ENDPOINT_STRIDE; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** Copies a whole record (both parts). Allocation-free. */
export function copyEndpoint(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number): void {
  for (let i = 0; i < ENDPOINT_STRIDE; i++) dst[dstOff + i] = src[srcOff + i];
}

/** True when the record's local part is set. Allocation-free. */
export function hasEndpointLocal(src: Uint8Array, offset = 0): boolean {
  return src[offset + ENDPOINT_LOCAL_OFFSET] !== 0;
}

/** Clears the local part (replies then leave from the address the kernel picks). Allocation-free. */
export function clearEndpointLocal(dst: Uint8Array, offset = 0): void {
  dst.fill(0, offset + ENDPOINT_LOCAL_OFFSET, offset + ENDPOINT_STRIDE);
}

/** Writes the local part of the record at offset (null clears it). Control path only. */
export function encodeEndpointLocal(local: EndpointLocal | null, dst: Uint8Array, offset = 0): void {
  clearEndpointLocal(dst, offset);
  if (local === null) return;
  if (!Number.isInteger(local.ifindex) || local.ifindex < 0 || local.ifindex > 0xffffffff) {
    throw new FerryError(ErrorCode.InvalidArgument, `ifindex must be 0..4294967295, got ${local.ifindex}`);
  }
  if (local.family === 4) {
    if (isIP(local.address) !== 4) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv4 address: ${local.address}`);
    const parts = local.address.split('.');
    for (let i = 0; i < 4; i++) dst[offset + LOCAL_ADDRESS + i] = Number(parts[i]);
  } else if (local.family === 6) {
    if (isIP(local.address) !== 6) throw new FerryError(ErrorCode.InvalidArgument, `not an IPv6 address: ${local.address}`);
    ipv6FromString(local.address, dst, offset + LOCAL_ADDRESS);
  } else {
    throw new FerryError(ErrorCode.InvalidArgument, `local family must be 4 or 6, got ${String(local.family)}`);
  }
  dst[offset + ENDPOINT_LOCAL_OFFSET] = local.family;
  new DataView(dst.buffer, dst.byteOffset).setUint32(offset + LOCAL_IFINDEX, local.ifindex, true);
}

/** Reads the local part of a record; null when it is unset. */
export function decodeEndpointLocal(src: Uint8Array, offset = 0): EndpointLocal | null {
  const family = src[offset + ENDPOINT_LOCAL_OFFSET];
  const ifindex = new DataView(src.buffer, src.byteOffset).getUint32(offset + LOCAL_IFINDEX, true);
  const a = offset + LOCAL_ADDRESS;
  if (family === 4) return { family: 4, address: `${src[a]}.${src[a + 1]}.${src[a + 2]}.${src[a + 3]}`, ifindex };
  if (family === 6) return { family: 6, address: formatIpv6(src, a), ifindex };
  return null;
}
