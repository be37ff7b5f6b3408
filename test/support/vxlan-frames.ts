/**
 * Frames and datagrams for VXLAN tests, built byte by byte as a kernel VTEP sends them
 * (so the tests do not lean on the codecs they test).
 */
import { ipv4FromString, ipv6FromString, macFromString } from '../../src/packet/format.js';

export function mac(text: string): Uint8Array {
  const b = new Uint8Array(6);
  macFromString(text, b, 0);
  return b;
}

function sum16(b: Uint8Array, off: number, len: number, initial = 0): number {
  let s = initial;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

/** An IPv4 UDP packet src → dst with `payload` bytes of pattern, DF set, valid checksums. */
export function ipv4Udp(src: string, dst: string, payload = 32, tos = 0): Uint8Array {
  const total = 20 + 8 + payload;
  const b = new Uint8Array(total);
  b[0] = 0x45;
  b[1] = tos;
  b[2] = total >> 8;
  b[3] = total & 0xff;
  b[6] = 0x40;
  b[8] = 64;
  b[9] = 17;
  const s = ipv4FromString(src);
  const d = ipv4FromString(dst);
  for (let i = 0; i < 4; i++) {
    b[12 + i] = (s >>> (24 - 8 * i)) & 0xff;
    b[16 + i] = (d >>> (24 - 8 * i)) & 0xff;
  }
  const c = ~sum16(b, 0, 20) & 0xffff;
  b[10] = c >> 8;
  b[11] = c & 0xff;
  b[20] = 0x30;
  b[21] = 0x39;
  b[22] = 0x1f;
  b[23] = 0x90;
  b[24] = (8 + payload) >> 8;
  b[25] = (8 + payload) & 0xff;
  for (let i = 0; i < payload; i++) b[28 + i] = (i * 7 + 3) & 0xff;
  return b;
}

/** An IPv6 UDP packet (checksum left zero: the tests only carry it). */
export function ipv6Udp(src: string, dst: string, payload = 32, trafficClass = 0): Uint8Array {
  const b = new Uint8Array(40 + 8 + payload);
  b[0] = 0x60 | (trafficClass >> 4);
  b[1] = (trafficClass & 0x0f) << 4;
  b[4] = (8 + payload) >> 8;
  b[5] = (8 + payload) & 0xff;
  b[6] = 17;
  b[7] = 64;
  ipv6FromString(src, b, 8);
  ipv6FromString(dst, b, 24);
  b[44] = (8 + payload) >> 8;
  b[45] = (8 + payload) & 0xff;
  for (let i = 0; i < payload; i++) b[48 + i] = i & 0xff;
  return b;
}

/** Ethernet frame dst ← src of the given EtherType around payload. */
export function frame(dst: Uint8Array, src: Uint8Array, etherType: number, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(14 + payload.length);
  b.set(dst, 0);
  b.set(src, 6);
  b[12] = etherType >> 8;
  b[13] = etherType & 0xff;
  b.set(payload, 14);
  return b;
}

/** A VXLAN datagram (UDP payload): I flag, vni, the frame. */
export function vxlan(vni: number, inner: Uint8Array): Uint8Array {
  const b = new Uint8Array(8 + inner.length);
  b[0] = 0x08;
  b[4] = (vni >> 16) & 0xff;
  b[5] = (vni >> 8) & 0xff;
  b[6] = vni & 0xff;
  b.set(inner, 8);
  return b;
}

/** An ARP request "who has target, tell sender", padded to the 60-byte Ethernet minimum. */
export function arpRequest(senderMac: Uint8Array, senderIp: string, targetIp: string): Uint8Array {
  const a = new Uint8Array(46);
  a.set([0, 1, 8, 0, 6, 4, 0, 1], 0);
  a.set(senderMac, 8);
  const s = ipv4FromString(senderIp);
  const t = ipv4FromString(targetIp);
  for (let i = 0; i < 4; i++) {
    a[14 + i] = (s >>> (24 - 8 * i)) & 0xff;
    a[24 + i] = (t >>> (24 - 8 * i)) & 0xff;
  }
  return frame(mac('ff:ff:ff:ff:ff:ff'), senderMac, 0x0806, a);
}

/** A neighbour solicitation from src (with its link-layer option) for target, to the solicited-node group. */
export function neighborSolicitation(senderMac: Uint8Array, src: string, target: string): Uint8Array {
  const p = new Uint8Array(40 + 32);
  p[0] = 0x60;
  p[5] = 32;
  p[6] = 58;
  p[7] = 255;
  ipv6FromString(src, p, 8);
  ipv6FromString('ff02::1:ff00:0', p, 24);
  const t = new Uint8Array(16);
  ipv6FromString(target, t, 0);
  p.set(t.subarray(13), 37);
  p[40] = 135;
  p.set(t, 48);
  p[64] = 1;
  p[65] = 1;
  p.set(senderMac, 66);
  let pseudo = 58 + 32;
  for (let i = 8; i < 40; i += 2) pseudo += (p[i] << 8) | p[i + 1];
  const c = ~sum16(p, 40, 32, pseudo) & 0xffff;
  p[42] = c >> 8;
  p[43] = c & 0xff;
  const dstMac = Uint8Array.of(0x33, 0x33, 0xff, t[13], t[14], t[15]);
  return frame(dstMac, senderMac, 0x86dd, p);
}

/** True when the ones'-complement sum over b[off, off+len) (+ initial) verifies. */
export function checksumOk(b: Uint8Array, off: number, len: number, initial = 0): boolean {
  return sum16(b, off, len, initial) === 0xffff;
}
