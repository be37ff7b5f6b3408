/**
 * Packets for the TUN offload tests (split and coalesce), built byte by byte as a simple
 * reference: IPv4/IPv6 (optionally with extension headers) carrying TCP or UDP, every
 * checksum complete; TSO/USO super-packets as the kernel hands them over; a checker
 * that every checksum of a packet verifies.
 */
import { internetChecksum, onesSum, pseudoSumIPv4, pseudoSumIPv6 } from '../../src/packet/checksum.js';
import { VirtioGsoType, VirtioNetFlag, type VirtioNetHdr } from '../../src/packet/virtio-net-hdr.js';

export const TCP = 6;
export const UDP = 17;
export const Flag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

export interface Flow {
  v6: boolean;
  proto: number;
  src: number[]; // 4 or 16 bytes
  dst: number[];
  sport: number;
  dport: number;
  tos?: number; // IPv4 TOS / IPv6 traffic class
  ttl?: number;
  df?: boolean;
  /** IPv6 extension header types (0 hop-by-hop, 43 routing, 60 destination options), in order. */
  ext?: number[];
  /** TCP options (a multiple of 4 bytes). */
  tcpOptions?: number[];
}

export interface Seg {
  seq?: number;
  ack?: number;
  flags?: number;
  id?: number;
  payload: Uint8Array;
}

export function ipHeaderLength(flow: Flow): number {
  return flow.v6 ? 40 + 8 * (flow.ext?.length ?? 0) : 20;
}

export function l4HeaderLength(flow: Flow): number {
  return flow.proto === TCP ? 20 + (flow.tcpOptions?.length ?? 0) : 8;
}

function put16(b: Uint8Array, at: number, v: number): void {
  b[at] = (v >>> 8) & 0xff;
  b[at + 1] = v & 0xff;
}

function put32(b: Uint8Array, at: number, v: number): void {
  put16(b, at, v >>> 16);
  put16(b, at + 2, v & 0xffff);
}

/** The L4 checksum's sum start: the pseudo-header of the packet in b for an L4 length. */
function pseudo(b: Uint8Array, flow: Flow, l4Len: number): number {
  if (!flow.v6) return pseudoSumIPv4(((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0, ((b[16] << 24) | (b[17] << 16) | (b[18] << 8) | b[19]) >>> 0, flow.proto, l4Len);
  return pseudoSumIPv6(b, 8, 24, flow.proto, l4Len);
}

/** One complete packet of the flow with every checksum computed. */
export function buildPacket(flow: Flow, seg: Seg): Uint8Array {
  const ipLen = ipHeaderLength(flow);
  const l4Len = l4HeaderLength(flow);
  const total = ipLen + l4Len + seg.payload.length;
  const b = new Uint8Array(total);
  if (flow.v6) {
    const tc = flow.tos ?? 0;
    b[0] = 0x60 | (tc >>> 4);
    b[1] = (tc & 0x0f) << 4;
    put16(b, 4, total - 40);
    const ext = flow.ext ?? [];
    b[6] = ext.length > 0 ? ext[0] : flow.proto;
    b[7] = flow.ttl ?? 64;
    b.set(flow.src, 8);
    b.set(flow.dst, 24);
    for (let i = 0; i < ext.length; i++) {
      const at = 40 + 8 * i;
      b[at] = i + 1 < ext.length ? ext[i + 1] : flow.proto;
      b[at + 1] = 0;
      if (ext[i] === 43) {
        b[at + 2] = 0; // routing type 0 with segments left 0: ignored (RFC 8200 4.4)
      } else {
        b[at + 2] = 1; // PadN over the 6 option bytes
        b[at + 3] = 4;
      }
    }
  } else {
    b[0] = 0x45;
    b[1] = flow.tos ?? 0;
    put16(b, 2, total);
    put16(b, 4, seg.id ?? 0);
    b[6] = flow.df === false ? 0 : 0x40;
    b[8] = flow.ttl ?? 64;
    b[9] = flow.proto;
    b.set(flow.src, 12);
    b.set(flow.dst, 16);
    put16(b, 10, internetChecksum(b, 0, 20));
  }
  put16(b, ipLen, flow.sport);
  put16(b, ipLen + 2, flow.dport);
  b.set(seg.payload, ipLen + l4Len);
  let csumAt = ipLen + 6;
  if (flow.proto === TCP) {
    put32(b, ipLen + 4, seg.seq ?? 0);
    put32(b, ipLen + 8, seg.ack ?? 0);
    b[ipLen + 12] = (l4Len / 4) << 4;
    b[ipLen + 13] = seg.flags ?? Flag.ACK;
    put16(b, ipLen + 14, 65000);
    if (flow.tcpOptions) b.set(flow.tcpOptions, ipLen + 20);
    csumAt = ipLen + 16;
  } else {
    put16(b, ipLen + 4, total - ipLen);
  }
  let c = internetChecksum(b, ipLen, total - ipLen, pseudo(b, flow, total - ipLen));
  if (c === 0 && flow.proto === UDP) c = 0xffff;
  put16(b, csumAt, c);
  return b;
}

/**
 * The segments Linux would make of `payload` at `mss`: sequence advanced, IPv4 ID + i,
 * FIN/PSH only on the last, CWR only on the first.
 */
export function referenceSegments(flow: Flow, first: Seg, mss: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const n = Math.ceil(first.payload.length / mss);
  for (let i = 0; i < n; i++) {
    let flags = first.flags ?? Flag.ACK;
    if (i !== n - 1) flags &= ~(Flag.FIN | Flag.PSH);
    if (i !== 0) flags &= ~Flag.CWR;
    out.push(
      buildPacket(flow, {
        seq: ((first.seq ?? 0) + i * mss) >>> 0,
        ack: first.ack,
        flags,
        id: ((first.id ?? 0) + i) & 0xffff,
        payload: first.payload.subarray(i * mss, Math.min(first.payload.length, (i + 1) * mss)),
      }),
    );
  }
  return out;
}

/**
 * A super-packet as a TUN with offloads hands it over: one IP packet with the whole
 * payload, its L4 checksum field holding the pseudo-header sum (NeedsCsum), and its
 * virtio header filled in.
 */
export function superPacket(flow: Flow, first: Seg, mss: number, hdr: VirtioNetHdr): Uint8Array {
  const b = buildPacket(flow, first);
  const ipLen = ipHeaderLength(flow);
  const csumAt = ipLen + (flow.proto === TCP ? 16 : 6);
  put16(b, csumAt, pseudo(b, flow, b.length - ipLen));
  hdr.flags = VirtioNetFlag.NeedsCsum;
  hdr.gsoType = flow.proto === UDP ? VirtioGsoType.UdpL4 : flow.v6 ? VirtioGsoType.TcpV6 : VirtioGsoType.TcpV4;
  if (flow.proto === TCP && ((first.flags ?? 0) & Flag.CWR) !== 0) hdr.gsoType |= VirtioGsoType.Ecn;
  hdr.hdrLen = ipLen + l4HeaderLength(flow);
  hdr.gsoSize = mss;
  hdr.csumStart = ipLen;
  hdr.csumOffset = flow.proto === TCP ? 16 : 6;
  return b;
}

/** True when the IPv4 header checksum (if any) and the TCP/UDP checksum of the packet verify. */
export function checksumsVerify(b: Uint8Array, flow: Flow): boolean {
  const ipLen = ipHeaderLength(flow);
  if (!flow.v6 && onesSum(b, 0, 20) !== 0xffff) return false;
  return onesSum(b, ipLen, b.length - ipLen, pseudo(b, flow, b.length - ipLen)) === 0xffff;
}

export function randomBytes(next: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (next() * 256) | 0;
  return b;
}

export function randomFlow(next: () => number, proto: number, allowExt: boolean): Flow {
  const v6 = next() < 0.5;
  const n = v6 ? 16 : 4;
  const ext: number[] = [];
  if (v6 && allowExt) {
    if (next() < 0.3) ext.push(0);
    if (next() < 0.3) ext.push(43);
    if (next() < 0.3) ext.push(60);
  }
  const opts = proto === TCP && next() < 0.5 ? [1, 1, 8, 10, ...randomBytes(next, 8)] : undefined;
  return {
    v6,
    proto,
    src: [...randomBytes(next, n)],
    dst: [...randomBytes(next, n)],
    sport: (next() * 65536) | 0,
    dport: (next() * 65536) | 0,
    tos: (next() * 256) | 0,
    ttl: 1 + ((next() * 255) | 0),
    ext,
    tcpOptions: opts,
  };
}

