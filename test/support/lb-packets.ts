/**
 * Packets for load-balancer tests: IPv4/IPv6 TCP and UDP with correct checksums, ICMP
 * errors quoting them, and a reader that checks every checksum of what ferry wrote.
 */
import { isIP } from 'node:net';
import { ipv6ToBytes } from '../../src/io/endpoint.js';
import { internetChecksum, pseudoSumIPv6, setTransportChecksumIPv4, setTransportChecksumIPv6, transportChecksumValidIPv4, transportChecksumValidIPv6 } from '../../src/packet/checksum.js';
import { IPProto } from '../../src/packet/constants.js';
import { ipv6ToString } from '../../src/packet/format.js';
import { ipv4HeaderChecksumValid, writeIPv4Header } from '../../src/packet/ipv4.js';
import { writeIPv6Header } from '../../src/packet/ipv6.js';
import { writeTCPHeader } from '../../src/packet/tcp.js';
import { writeUDPHeader } from '../../src/packet/udp.js';
import { writeICMPv4Error, writeICMPv6Error } from '../../src/packet/icmp-error.js';

export function addrBytes(text: string): Uint8Array {
  const out = new Uint8Array(16);
  if (isIP(text) === 4) text.split('.').forEach((p, i) => (out[i] = Number(p)));
  else ipv6ToBytes(text, out, 0);
  return out;
}

function v4(text: string): number {
  const b = addrBytes(text);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export interface PacketSpec {
  src: string;
  sport: number;
  dst: string;
  dport: number;
  proto: 'tcp' | 'udp';
  /** TCP flags (TCPFlag bits); default SYN. */
  flags?: number;
  seq?: number;
  ack?: number;
  payload?: Uint8Array | string;
  /** UDP over IPv4: send a zero ("no") checksum. */
  zeroChecksum?: boolean;
}

/** A whole IPv4 or IPv6 packet (by the addresses' family) with valid checksums. */
export function packet(p: PacketSpec): Uint8Array {
  const family = isIP(p.src) === 4 ? 4 : 6;
  const data = typeof p.payload === 'string' ? new TextEncoder().encode(p.payload) : (p.payload ?? new Uint8Array(0));
  const l4Len = (p.proto === 'tcp' ? 20 : 8) + data.length;
  const ipLen = family === 4 ? 20 : 40;
  const buf = new Uint8Array(ipLen + l4Len);
  const proto = p.proto === 'tcp' ? IPProto.TCP : IPProto.UDP;
  if (family === 4) writeIPv4Header(buf, 0, buf.length, proto, v4(p.src), v4(p.dst), 64, 0x1234, 2);
  else writeIPv6Header(buf, 0, l4Len, proto, addrBytes(p.src), 0, addrBytes(p.dst), 0);
  if (p.proto === 'tcp') writeTCPHeader(buf, ipLen, p.sport, p.dport, p.seq ?? 1000, p.ack ?? 0, p.flags ?? 0x02, 65535);
  else writeUDPHeader(buf, ipLen, p.sport, p.dport, l4Len);
  buf.set(data, ipLen + (p.proto === 'tcp' ? 20 : 8));
  if (p.zeroChecksum && family === 4 && p.proto === 'udp') return buf;
  if (family === 4) setTransportChecksumIPv4(buf, ipLen, l4Len, proto, v4(p.src), v4(p.dst));
  else setTransportChecksumIPv6(buf, ipLen, l4Len, proto, 8, 24);
  return buf;
}

/** An ICMP(v6) error of type/code from `from`, quoting `quoted` (whole, or its first `quote` bytes). */
export function icmpError(from: string, type: number, code: number, quoted: Uint8Array, rest = 0, quote = quoted.length): Uint8Array {
  const family = isIP(from) === 4 ? 4 : 6;
  const out = new Uint8Array(1280);
  const q = quoted.subarray(0, quote);
  const n = family === 4 ? writeICMPv4Error(out, 0, out.length, type, code, rest, v4(from), q, 0, q.length) : writeICMPv6Error(out, 0, out.length, type, code, rest, addrBytes(from), 0, q, 0, q.length);
  if (n === 0) throw new Error('icmpError: nothing written');
  return out.slice(0, n);
}

export interface Parsed {
  family: 4 | 6;
  proto: number;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  /** TCP: flags, seq, ack. */
  flags: number;
  seq: number;
  ack: number;
  payload: Uint8Array;
  /** Every checksum (IPv4 header, transport) verifies; a zero UDP checksum over IPv4 counts as valid. */
  checksumsValid: boolean;
  udpChecksum: number;
  /** ICMP: type, code, and the quoted packet parsed (checksums of the quote not required). */
  icmpType: number;
  icmpCode: number;
  icmpRest: number;
  quote: Parsed | null;
}

function addrText(buf: Uint8Array, off: number, family: 4 | 6): string {
  return family === 4 ? `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}` : ipv6ToString(buf, off);
}

/** Reads a packet ferry wrote (bytes past the IP total length are ignored). */
export function parse(buf: Uint8Array, quoted = false): Parsed {
  const family = (buf[0] >> 4) as 4 | 6;
  const ipLen = family === 4 ? (buf[0] & 15) * 4 : 40;
  const total = family === 4 ? (buf[2] << 8) | buf[3] : 40 + ((buf[4] << 8) | buf[5]);
  const end = Math.min(total, buf.length);
  const proto = family === 4 ? buf[9] : buf[6];
  const srcOff = family === 4 ? 12 : 8;
  const dstOff = family === 4 ? 16 : 24;
  const l4 = ipLen;
  const l4Len = end - l4;
  const out: Parsed = {
    family,
    proto,
    src: addrText(buf, srcOff, family),
    dst: addrText(buf, dstOff, family),
    sport: 0,
    dport: 0,
    flags: 0,
    seq: 0,
    ack: 0,
    payload: new Uint8Array(0),
    checksumsValid: true,
    udpChecksum: 0,
    icmpType: -1,
    icmpCode: -1,
    icmpRest: 0,
    quote: null,
  };
  if (family === 4 && !ipv4HeaderChecksumValid(buf, 0)) out.checksumsValid = false;
  if (proto === IPProto.TCP || proto === IPProto.UDP) {
    out.sport = (buf[l4] << 8) | buf[l4 + 1];
    out.dport = (buf[l4 + 2] << 8) | buf[l4 + 3];
    if (proto === IPProto.TCP) {
      out.seq = ((buf[l4 + 4] << 24) | (buf[l4 + 5] << 16) | (buf[l4 + 6] << 8) | buf[l4 + 7]) >>> 0;
      out.ack = ((buf[l4 + 8] << 24) | (buf[l4 + 9] << 16) | (buf[l4 + 10] << 8) | buf[l4 + 11]) >>> 0;
      out.flags = buf[l4 + 13];
      out.payload = buf.slice(l4 + (buf[l4 + 12] >> 4) * 4, end);
    } else {
      out.udpChecksum = (buf[l4 + 6] << 8) | buf[l4 + 7];
      out.payload = buf.slice(l4 + 8, end);
    }
    if (!quoted) {
      const ok = family === 4 ? transportChecksumValidIPv4(buf, l4, l4Len, proto, readV4(buf, 12), readV4(buf, 16)) : transportChecksumValidIPv6(buf, l4, l4Len, proto, 8, 24);
      if (!ok) out.checksumsValid = false;
    }
  } else if (proto === IPProto.ICMP || proto === IPProto.ICMPv6) {
    out.icmpType = buf[l4];
    out.icmpCode = buf[l4 + 1];
    out.icmpRest = ((buf[l4 + 4] << 24) | (buf[l4 + 5] << 16) | (buf[l4 + 6] << 8) | buf[l4 + 7]) >>> 0;
    const sum = family === 4 ? internetChecksum(buf, l4, l4Len) : internetChecksum(buf, l4, l4Len, pseudoSumIPv6(buf, 8, 24, IPProto.ICMPv6, l4Len));
    if (sum !== 0) out.checksumsValid = false;
    const isError = family === 4 ? out.icmpType === 3 || out.icmpType === 11 : out.icmpType < 128;
    if (isError && l4Len > 8) out.quote = parse(buf.slice(l4 + 8, end), true);
  }
  return out;
}

function readV4(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** True when the UDP checksum of a quoted packet (whole) verifies against its own addresses. */
export function quotedUdpChecksumValid(quote: Uint8Array): boolean {
  const family = quote[0] >> 4;
  const ipLen = family === 4 ? (quote[0] & 15) * 4 : 40;
  const l4Len = quote.length - ipLen;
  return family === 4 ? transportChecksumValidIPv4(quote, ipLen, l4Len, IPProto.UDP, readV4(quote, 12), readV4(quote, 16)) : transportChecksumValidIPv6(quote, ipLen, l4Len, IPProto.UDP, 8, 24);
}
