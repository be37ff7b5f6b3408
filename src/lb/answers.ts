/**
 * The answers a host gives when nothing listens, written by the load balancer when a
 * VIP has no service or no backend left, so a client fails at once instead of waiting
 * for a timeout: a TCP RST (RFC 9293 section 3.10.7.1) or an ICMP port unreachable
 * quoting the datagram. Both come from the VIP the client addressed. Pure: they write
 * into a caller's buffer (a fresh pool slot) and return the length.
 */
import { readU16, readU32 } from '../packet/bytes.js';
import { setTransportChecksumIPv4, setTransportChecksumIPv6 } from '../packet/checksum.js';
import { ICMPv4UnreachableCode, ICMPv6UnreachableCode, IPProto, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, TCP_HEADER_LENGTH, TCPFlag } from '../packet/constants.js';
import { writeICMPv4Unreachable, writeICMPv6Unreachable } from '../packet/icmp-error.js';
import { writeIPv4Header } from '../packet/ipv4.js';
import { writeIPv6Header } from '../packet/ipv6.js';
import { writeTCPHeader } from '../packet/tcp.js';

/**
 * Writes the RST answering the TCP segment at pkt[ipOff] (transport at tcpOff; flags,
 * seq, ack and payload length as parsed) into out[outOff]. Never call it for a RST.
 * Returns the length (40 or 60), or 0 when outCap is too small.
 */
export function writeTcpReset(
  out: Uint8Array,
  outOff: number,
  outCap: number,
  pkt: Uint8Array,
  ipOff: number,
  family: number,
  tcpOff: number,
  flags: number,
  seq: number,
  ack: number,
  payloadLength: number,
): number {
  const ipLen = family === 4 ? IPV4_HEADER_LENGTH : IPV6_HEADER_LENGTH;
  const total = ipLen + TCP_HEADER_LENGTH;
  if (outCap < total) return 0;
  const sport = readU16(pkt, tcpOff + 2);
  const dport = readU16(pkt, tcpOff);
  let rseq = 0;
  let rack = 0;
  let rflags = TCPFlag.RST;
  if ((flags & TCPFlag.ACK) !== 0) {
    rseq = ack;
  } else {
    // The segment's length in sequence space: its data, plus one for SYN and for FIN.
    rack = (seq + payloadLength + ((flags & TCPFlag.SYN) !== 0 ? 1 : 0) + ((flags & TCPFlag.FIN) !== 0 ? 1 : 0)) >>> 0;
    rflags |= TCPFlag.ACK;
  }
  const tcp = outOff + ipLen;
  if (family === 4) {
    writeIPv4Header(out, outOff, total, IPProto.TCP, readU32(pkt, ipOff + 16), readU32(pkt, ipOff + 12));
    writeTCPHeader(out, tcp, sport, dport, rseq, rack, rflags, 0);
    setTransportChecksumIPv4(out, tcp, TCP_HEADER_LENGTH, IPProto.TCP, readU32(out, outOff + 12), readU32(out, outOff + 16));
  } else {
    writeIPv6Header(out, outOff, TCP_HEADER_LENGTH, IPProto.TCP, pkt, ipOff + 24, pkt, ipOff + 8);
    writeTCPHeader(out, tcp, sport, dport, rseq, rack, rflags, 0);
    setTransportChecksumIPv6(out, tcp, TCP_HEADER_LENGTH, IPProto.TCP, outOff + 8, outOff + 24);
  }
  return total;
}

/**
 * Writes an ICMP (or ICMPv6) port unreachable from the packet's destination, quoting the
 * packet at pkt[ipOff, ipOff + len). Returns the length, or 0. The caller checks first
 * that an error may be sent about this packet (icmpv4ErrorAllowed / icmpv6ErrorAllowed).
 */
export function writePortUnreachable(out: Uint8Array, outOff: number, outCap: number, pkt: Uint8Array, ipOff: number, len: number, family: number): number {
  if (family === 4) return writeICMPv4Unreachable(out, outOff, outCap, ICMPv4UnreachableCode.Port, readU32(pkt, ipOff + 16), pkt, ipOff, len);
  return writeICMPv6Unreachable(out, outOff, outCap, ICMPv6UnreachableCode.Port, pkt, ipOff + 24, pkt, ipOff, len);
}
