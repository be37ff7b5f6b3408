/**
 * The rules deciding whether two TCP packets of a batch may become one super-packet on
 * a TUN write (GRO done by us), as wireguard-go's tcpGRO and Linux's tcp_gro_receive
 * apply them. Anything the kernel would not have produced from one TSO burst is left alone.
 */
import { bytesEqual, readU16, readU32 } from './bytes.js';
import { IPProto } from './constants.js';
import { transportChecksumValidIPv4, transportChecksumValidIPv6 } from './checksum.js';
import { ipv4HeaderChecksumValid } from './ipv4.js';

export const TCP_PSH = 0x08;
export const TCP_CWR = 0x80;
const TCP_ACK = 0x10;
const TCP_ECE = 0x40;

/** The largest IP packet a super-packet may be (the IPv4 total length / GRO's 64 KiB). */
export const MAX_SUPER_PACKET = 65535;

/**
 * What tcpPacketInfo found, made once: [ipVersion, ipHeaderLen, tcpHeaderLen, mergeable].
 * mergeable is 1 when the packet may start or join a group (ACK with payload, only PSH,
 * CWR and ECE besides it); 0 for a TCP packet that only takes its flow's place (SYN, FIN,
 * a pure ACK): later packets of its flow must not be merged across it.
 */
export const tcpInfo = new Int32Array(4);

/**
 * Parses an IP packet as a coalescing candidate: IPv4 without options and not a fragment,
 * or IPv6 whose next header is TCP, lengths consistent. Returns false for anything else
 * (written alone, never tracked as a flow).
 */
export function tcpPacketInfo(buf: Uint8Array, off: number, len: number): boolean {
  if (len < 40 || len > MAX_SUPER_PACKET) return false;
  const version = buf[off] >>> 4;
  let ipLen: number;
  if (version === 4) {
    if (buf[off] !== 0x45 || buf[off + 9] !== IPProto.TCP || readU16(buf, off + 2) !== len) return false;
    if ((readU16(buf, off + 6) & 0x3fff) !== 0) return false;
    ipLen = 20;
  } else if (version === 6) {
    if (len < 60 || buf[off + 6] !== IPProto.TCP || readU16(buf, off + 4) !== len - 40) return false;
    ipLen = 40;
  } else {
    return false;
  }
  const tcpLen = (buf[off + ipLen + 12] >>> 4) * 4;
  if (tcpLen < 20 || ipLen + tcpLen > len) return false;
  const flags = buf[off + ipLen + 13];
  tcpInfo[0] = version;
  tcpInfo[1] = ipLen;
  tcpInfo[2] = tcpLen;
  tcpInfo[3] = (flags & ~(TCP_PSH | TCP_CWR | TCP_ECE)) === TCP_ACK && len > ipLen + tcpLen ? 1 : 0;
  return true;
}

/** Same flow: version, addresses and ports (both packets passed tcpPacketInfo). */
export function sameTcpFlow(buf: Uint8Array, a: number, b: number, ipLen: number): boolean {
  if (buf[a] >>> 4 !== buf[b] >>> 4 || readU32(buf, a + ipLen) !== readU32(buf, b + ipLen)) return false;
  return ipLen === 20 ? bytesEqual(buf, a + 12, buf, b + 12, 8) : bytesEqual(buf, a + 8, buf, b + 8, 32);
}

/**
 * True when packet b can follow the group headed by a as far as headers go: IPv4 TOS
 * (with ECN, so a CE mark is never merged), DF/reserved bits and TTL equal; IPv6 first word
 * (traffic class with ECN, flow label) and hop limit equal; TCP header length, ack,
 * window and options equal; flags equal except PSH (a PSH packet ends a group) and CWR
 * (only the head may carry it, as Linux's GRO flushes on CWR).
 */
export function tcpHeadersMatch(buf: Uint8Array, a: number, b: number, ipLen: number, tcpLen: number): boolean {
  if (ipLen === 20) {
    if (buf[a + 1] !== buf[b + 1] || buf[a + 6] >>> 5 !== buf[b + 6] >>> 5 || buf[a + 8] !== buf[b + 8]) return false;
  } else if (readU32(buf, a) !== readU32(buf, b) || buf[a + 7] !== buf[b + 7]) {
    return false;
  }
  const ta = a + ipLen;
  const tb = b + ipLen;
  if (buf[tb + 12] >>> 4 !== tcpLen >>> 2 || (buf[tb + 13] & TCP_CWR) !== 0) return false;
  if ((buf[ta + 13] & ~(TCP_PSH | TCP_CWR)) !== (buf[tb + 13] & ~TCP_PSH)) return false;
  if (readU32(buf, ta + 8) !== readU32(buf, tb + 8) || readU16(buf, ta + 14) !== readU16(buf, tb + 14)) return false;
  return bytesEqual(buf, ta + 20, buf, tb + 20, tcpLen - 20);
}

/** IPv4 header and TCP checksums verify (IPv6: TCP only). */
export function tcpChecksumsValid(buf: Uint8Array, off: number, len: number, ipLen: number): boolean {
  if (ipLen === 20) {
    return ipv4HeaderChecksumValid(buf, off) && transportChecksumValidIPv4(buf, off + 20, len - 20, IPProto.TCP, readU32(buf, off + 12), readU32(buf, off + 16));
  }
  return transportChecksumValidIPv6(buf, off + 40, len - 40, IPProto.TCP, off + 8, off + 24);
}
