/**
 * The IP and UDP headers a datagram had on the wire, rebuilt for the `outer` capture
 * point from its endpoint record (src/io/endpoint.ts) and the plane's local port: the
 * socket hands ferry only the UDP payload. The local address is the record's local part
 * when known (the address a datagram arrived on, the sticky source of a reply), else the
 * unspecified address. The UDP checksum is 0 (not computed); IPv4's header checksum is.
 */
import { ENDPOINT_LOCAL_OFFSET } from '../io/endpoint.js';
import { CaptureDirection } from '../datapath/capture-tap.js';

/** The most an outer header takes: IPv6 (40) + UDP (8). */
export const OUTER_HEADER_MAX = 48;

/**
 * Writes the headers for a UDP payload of `payloadLength` bytes at dst[at…]; returns
 * their length, or 0 when the record has no address family.
 */
export function writeOuterHeaders(dst: Uint8Array, at: number, direction: number, payloadLength: number, eps: Uint8Array, epOff: number, localPort: number): number {
  const family = eps[epOff];
  if (family !== 4 && family !== 6) return 0;
  const localSame = eps[epOff + ENDPOINT_LOCAL_OFFSET] === family;
  const outbound = direction === CaptureDirection.ToNetwork;
  const remotePort = (eps[epOff + 2] << 8) | eps[epOff + 3];
  const remote = epOff + 4;
  const local = epOff + ENDPOINT_LOCAL_OFFSET + 8;
  const addrLen = family === 4 ? 4 : 16;
  const ipLen = family === 4 ? 20 : 40;
  const src = at + (family === 4 ? 12 : 8);
  const dstAddr = src + addrLen;
  // Source and destination: remote on one side, local (or unspecified) on the other.
  const remoteAt = outbound ? dstAddr : src;
  const localAt = outbound ? src : dstAddr;
  for (let i = 0; i < addrLen; i++) {
    dst[remoteAt + i] = eps[remote + i];
    dst[localAt + i] = localSame ? eps[local + i] : 0;
  }
  const udpLen = 8 + payloadLength;
  if (family === 4) {
    const total = Math.min(65535, ipLen + udpLen);
    dst[at] = 0x45;
    dst[at + 1] = eps[epOff + 1];
    dst[at + 2] = total >>> 8;
    dst[at + 3] = total & 0xff;
    dst[at + 4] = 0;
    dst[at + 5] = 0;
    dst[at + 6] = 0x40; // DF, as ferry's sockets send
    dst[at + 7] = 0;
    dst[at + 8] = 64;
    dst[at + 9] = 17;
    dst[at + 10] = 0;
    dst[at + 11] = 0;
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += (dst[at + i] << 8) | dst[at + i + 1];
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    sum = ~sum & 0xffff;
    dst[at + 10] = sum >>> 8;
    dst[at + 11] = sum & 0xff;
  } else {
    const tc = eps[epOff + 1];
    dst[at] = 0x60 | (tc >>> 4);
    dst[at + 1] = (tc & 0x0f) << 4;
    dst[at + 2] = 0;
    dst[at + 3] = 0;
    const plen = Math.min(65535, udpLen);
    dst[at + 4] = plen >>> 8;
    dst[at + 5] = plen & 0xff;
    dst[at + 6] = 17;
    dst[at + 7] = 64;
  }
  const u = at + ipLen;
  const srcPort = outbound ? localPort : remotePort;
  const dstPort = outbound ? remotePort : localPort;
  dst[u] = srcPort >>> 8;
  dst[u + 1] = srcPort & 0xff;
  dst[u + 2] = dstPort >>> 8;
  dst[u + 3] = dstPort & 0xff;
  const ul = udpLen > 65535 ? 0 : udpLen;
  dst[u + 4] = ul >>> 8;
  dst[u + 5] = ul & 0xff;
  dst[u + 6] = 0;
  dst[u + 7] = 0;
  return ipLen + 8;
}
