/**
 * The rules deciding whether two TCP (or UDP) packets of a batch may become one
 * super-packet on a TUN write (GRO done by us), as wireguard-go's tcpGRO/udpGRO and
 * Linux's tcp_gro_receive apply them. Anything the kernel would not have produced from one TSO burst is left alone.
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
/** Packets of one coalesced group at most: one iovec each, and tunWritevBatch takes 1024 a group (TUN_WRITEV_MAX_IOV, the kernel's UIO_MAXIOV). */
export const MAX_GROUP_PACKETS = 1024;

/**
 * What coalesceInfo found, made once: [ipVersion, ipHeaderLen, l4HeaderLen, mergeable, protocol].
 * mergeable is 1 when the packet may start or join a group (TCP: ACK with payload, only
 * PSH, CWR and ECE besides it; UDP: a payload and a checksum); 0 for a packet that only
 * takes its flow's place (SYN, FIN, a pure ACK): later packets of its flow must not be
 * merged across it.
 */
export const l4Info = new Int32Array(5);

/**
 * Parses an IP packet as a coalescing candidate: TCP (UDP too when `udp`) over IPv4
 * without options and not a fragment, or over IPv6 as the first next header, lengths
 * consistent. Returns false for anything else (written alone, never tracked as a flow).
 */
export function coalesceInfo(buf: Uint8Array, off: number, len: number, udp: boolean): boolean {
  if (len < 28 || len > MAX_SUPER_PACKET) return false;
  const version = buf[off] >>> 4;
  let ipLen: number;
  let proto: number;
  if (version === 4) {
    proto = buf[off + 9];
    if (buf[off] !== 0x45 || readU16(buf, off + 2) !== len || (readU16(buf, off + 6) & 0x3fff) !== 0) return false;
    ipLen = 20;
  } else if (version === 6) {
    proto = buf[off + 6];
    if (len < 48 || readU16(buf, off + 4) !== len - 40) return false;
    ipLen = 40;
  } else {
    return false;
  }
  let l4Len = 8;
  let mergeable: boolean;
  if (proto === IPProto.TCP) {
    if (ipLen + 20 > len) return false;
    l4Len = (buf[off + ipLen + 12] >>> 4) * 4;
    if (l4Len < 20 || ipLen + l4Len > len) return false;
    mergeable = (buf[off + ipLen + 13] & ~(TCP_PSH | TCP_CWR | TCP_ECE)) === TCP_ACK;
  } else if (proto === IPProto.UDP && udp) {
    if (readU16(buf, off + ipLen + 4) !== len - ipLen) return false;
    mergeable = readU16(buf, off + ipLen + 6) !== 0; // a datagram sent without checksum stays as it is
  } else {
    return false;
  }
  l4Info[0] = version;
  l4Info[1] = ipLen;
  l4Info[2] = l4Len;
  l4Info[3] = mergeable && len > ipLen + l4Len ? 1 : 0;
  l4Info[4] = proto;
  return true;
}

/** Same flow: version, addresses and ports (both packets passed coalesceInfo with one protocol). */
export function sameFlow(buf: Uint8Array, a: number, b: number, ipLen: number): boolean {
  if (buf[a] >>> 4 !== buf[b] >>> 4 || readU32(buf, a + ipLen) !== readU32(buf, b + ipLen)) return false;
  return ipLen === 20 ? bytesEqual(buf, a + 12, buf, b + 12, 8) : bytesEqual(buf, a + 8, buf, b + 8, 32);
}

/**
 * IP fields that must be equal for b to join a's group: IPv4 TOS (with ECN, so a CE mark
 * is never merged), DF/reserved bits and TTL; IPv6 first word (traffic class with ECN,
 * flow label) and hop limit.
 */
export function ipHeadersMatch(buf: Uint8Array, a: number, b: number, ipLen: number): boolean {
  if (ipLen === 20) return buf[a + 1] === buf[b + 1] && buf[a + 6] >>> 5 === buf[b + 6] >>> 5 && buf[a + 8] === buf[b + 8];
  return readU32(buf, a) === readU32(buf, b) && buf[a + 7] === buf[b + 7];
}

/**
 * True when TCP packet b can follow the group headed by a as far as headers go: IP fields
 * as ipHeadersMatch; TCP header length, ack, window and options equal; flags equal except
 * PSH (a PSH packet ends a group) and CWR (only the head may carry it, as Linux's GRO
 * flushes on CWR).
 */
export function tcpHeadersMatch(buf: Uint8Array, a: number, b: number, ipLen: number, tcpLen: number): boolean {
  if (!ipHeadersMatch(buf, a, b, ipLen)) return false;
  const ta = a + ipLen;
  const tb = b + ipLen;
  if (buf[tb + 12] >>> 4 !== tcpLen >>> 2 || (buf[tb + 13] & TCP_CWR) !== 0) return false;
  if ((buf[ta + 13] & ~(TCP_PSH | TCP_CWR)) !== (buf[tb + 13] & ~TCP_PSH)) return false;
  if (readU32(buf, ta + 8) !== readU32(buf, tb + 8) || readU16(buf, ta + 14) !== readU16(buf, tb + 14)) return false;
  return bytesEqual(buf, ta + 20, buf, tb + 20, tcpLen - 20);
}

/** IPv4 header and L4 checksums verify (IPv6: L4 only). */
export function checksumsValid(buf: Uint8Array, off: number, len: number, ipLen: number, proto: number): boolean {
  if (ipLen === 20) {
    return ipv4HeaderChecksumValid(buf, off) && transportChecksumValidIPv4(buf, off + 20, len - 20, proto, readU32(buf, off + 12), readU32(buf, off + 16));
  }
  return transportChecksumValidIPv6(buf, off + 40, len - 40, proto, off + 8, off + 24);
}
