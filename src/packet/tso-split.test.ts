import { test } from 'node:test';
import assert from 'node:assert/strict';
import { segmentCount, splitSegments } from './tso-split.js';
import { VirtioGsoType, VirtioNetFlag, VirtioNetHdr } from './virtio-net-hdr.js';
import {
  Flag,
  type Flow,
  type Seg,
  TCP,
  UDP,
  buildPacket,
  checksumsVerify,
  randomBytes,
  randomFlow,
  referenceSegments,
  superPacket,
} from '../../test/support/offload-packets.js';
import { seededRandom } from '../../test/support/seeded-random.js';

const SLOT = 2048;
const v4: Flow = { v6: false, proto: TCP, src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 40000, dport: 5201 };
const v6src = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const v6dst = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** Splits `pkt` (placed at slot 0 of a pool-like buffer, segment 0 in place) and returns copies of the segments. */
function split(pkt: Uint8Array, hdr: VirtioNetHdr, slots = 64, capacity = SLOT): Uint8Array[] | number {
  const buf = new Uint8Array(SLOT * 64 + 70000);
  const off = SLOT * 64;
  buf.set(pkt, off);
  const offsets = new Int32Array(slots);
  offsets[0] = off;
  for (let i = 1; i < slots; i++) offsets[i] = i * SLOT;
  const lengths = new Int32Array(slots);
  const n = splitSegments(buf, off, pkt.length, hdr, offsets, capacity, lengths);
  if (n < 0) return n;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(buf.slice(offsets[i], offsets[i] + lengths[i]));
  return out;
}

function payload(n: number, seed = 1): Uint8Array {
  return randomBytes(seededRandom(seed), n);
}

test('IPv4 TSO of 3 segments with FIN+PSH: lengths, IDs, sequence, flags and checksums per segment', () => {
  const hdr = new VirtioNetHdr();
  const first: Seg = { seq: 0xfffffd00, ack: 77, flags: Flag.ACK | Flag.PSH | Flag.FIN, id: 0xfffe, payload: payload(2 * 1000 + 600) };
  const pkt = superPacket(v4, first, 1000, hdr);
  assert.equal(segmentCount(pkt, 0, pkt.length, hdr), 3);
  const segs = split(pkt, hdr) as Uint8Array[];
  assert.deepEqual(segs, referenceSegments(v4, first, 1000));
  assert.deepEqual(segs.map((s) => s.length), [1040, 1040, 640]);
  assert.deepEqual(segs.map((s) => s[33]), [Flag.ACK, Flag.ACK, Flag.ACK | Flag.PSH | Flag.FIN]);
  assert.deepEqual(segs.map((s) => (s[4] << 8) | s[5]), [0xfffe, 0xffff, 0]); // ID wraps
  assert.deepEqual(segs.map((s) => ((s[24] << 24) | (s[25] << 16) | (s[26] << 8) | s[27]) >>> 0), [0xfffffd00, 232, 1232]);
  for (const s of segs) assert.ok(checksumsVerify(s, v4));
});

test('a hand-checked vector: IPv4 header and TCP checksums of a 2-segment split', () => {
  // 10.0.0.1:40000 → 10.0.0.2:5201, seq 1, ack 2, ACK, window 65000, payload "abcd" at MSS 2, ID 0x1234, DF, TTL 64.
  const first: Seg = { seq: 1, ack: 2, flags: Flag.ACK, id: 0x1234, payload: new TextEncoder().encode('abcd') };
  const hdr = new VirtioNetHdr();
  const segs = split(superPacket(v4, first, 2, hdr), hdr) as Uint8Array[];
  assert.equal(segs.length, 2);
  // Expected values computed outside ferry (Python, RFC 1071). IPv4 header: total length 42, IDs 0x1234 and 0x1235.
  assert.deepEqual(segs.map((s) => (s[10] << 8) | s[11]), [0x1498, 0x1497]);
  // TCP checksums over pseudo-header + header + "ab" / "cd" (seq 1 / 3).
  assert.deepEqual(segs.map((s) => (s[36] << 8) | s[37]), [0x8bf0, 0x89ec]);
});

test('IPv6 with a hop-by-hop header: payload length per segment, extension header kept', () => {
  const flow: Flow = { v6: true, proto: TCP, src: v6src, dst: v6dst, sport: 1, dport: 2, ext: [0], tcpOptions: [1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 9] };
  const first: Seg = { seq: 5, ack: 6, flags: Flag.ACK | Flag.PSH, payload: payload(1388 * 2 + 100, 3) };
  const hdr = new VirtioNetHdr();
  const pkt = superPacket(flow, first, 1388, hdr);
  assert.equal(hdr.csumStart, 48);
  const segs = split(pkt, hdr) as Uint8Array[];
  assert.deepEqual(segs, referenceSegments(flow, first, 1388));
  assert.deepEqual(segs.map((s) => (s[4] << 8) | s[5]), [8 + 32 + 1388, 8 + 32 + 1388, 8 + 32 + 100]);
  for (const s of segs) assert.ok(checksumsVerify(s, flow));
});

test('a 1-byte last segment, routing and destination-options headers, CWR only on the first (Ecn)', () => {
  const flow: Flow = { v6: true, proto: TCP, src: v6src, dst: v6dst, sport: 3, dport: 4, ext: [43, 60] };
  const first: Seg = { seq: 100, ack: 1, flags: Flag.ACK | Flag.CWR | Flag.ECE, payload: payload(3 * 500 + 1, 4) };
  const hdr = new VirtioNetHdr();
  const pkt = superPacket(flow, first, 500, hdr);
  assert.equal(hdr.gsoType, VirtioGsoType.TcpV6 | VirtioGsoType.Ecn);
  const segs = split(pkt, hdr) as Uint8Array[];
  assert.equal(segs.length, 4);
  assert.equal(segs[3].length, 40 + 16 + 20 + 1);
  assert.deepEqual(segs.map((s) => s[56 + 13]), [Flag.ACK | Flag.CWR | Flag.ECE, Flag.ACK | Flag.ECE, Flag.ACK | Flag.ECE, Flag.ACK | Flag.ECE]);
  assert.deepEqual(segs, referenceSegments(flow, first, 500));
});

test('USO: UDP length and checksum per datagram, IPv4 and IPv6', () => {
  for (const flow of [
    { ...v4, proto: UDP },
    { v6: true, proto: UDP, src: v6src, dst: v6dst, sport: 9, dport: 53 },
  ] as Flow[]) {
    const first: Seg = { id: 7, payload: payload(1200 * 3 + 17, 5) };
    const hdr = new VirtioNetHdr();
    const segs = split(superPacket(flow, first, 1200, hdr), hdr) as Uint8Array[];
    assert.deepEqual(segs, referenceSegments(flow, first, 1200));
    const ip = flow.v6 ? 40 : 20;
    assert.deepEqual(segs.map((s) => (s[ip + 4] << 8) | s[ip + 5]), [1208, 1208, 1208, 25]);
    for (const s of segs) assert.ok(checksumsVerify(s, flow));
  }
});

test('gsoType None with NeedsCsum: the checksum is completed in place, one segment', () => {
  const first: Seg = { seq: 9, ack: 9, flags: Flag.ACK, payload: payload(333, 6) };
  const want = buildPacket(v4, first);
  const hdr = new VirtioNetHdr();
  const pkt = superPacket(v4, first, 1000, hdr);
  hdr.gsoType = VirtioGsoType.None;
  hdr.gsoSize = 0;
  assert.notDeepEqual(pkt, want);
  assert.deepEqual(split(pkt, hdr), [want]);
  // Without NeedsCsum the packet is passed on untouched; dstOffsets[0] elsewhere gets a copy.
  hdr.flags = 0;
  const buf = new Uint8Array(4096);
  buf.set(pkt, 100);
  const lengths = new Int32Array(1);
  assert.equal(splitSegments(buf, 100, pkt.length, hdr, Int32Array.of(2048), 2048, lengths), 1);
  assert.deepEqual(buf.slice(2048, 2048 + lengths[0]), pkt);
});

test('a completed checksum that computes to 0 is written as 0xFFFF (for UDP, 0 would mean none)', () => {
  const flow: Flow = { ...v4, proto: UDP };
  const data = payload(200, 7);
  data[100] = 0;
  data[101] = 0;
  // Move the built packet's checksum into a payload word: the new packet's checksum computes to 0.
  const built = buildPacket(flow, { payload: data });
  const c = (built[26] << 8) | built[27];
  data[100] = c >>> 8;
  data[101] = c & 0xff;
  const hdr = new VirtioNetHdr();
  const pkt = superPacket(flow, { payload: data }, 1000, hdr);
  hdr.gsoType = VirtioGsoType.None;
  hdr.gsoSize = 0;
  assert.ok((hdr.flags & VirtioNetFlag.NeedsCsum) !== 0);
  const [seg] = split(pkt, hdr) as Uint8Array[];
  assert.equal((seg[26] << 8) | seg[27], 0xffff);
  assert.ok(checksumsVerify(seg, flow));
});

test('an IPv6 routing header with segments left is refused (its pseudo-header would need the final destination)', () => {
  const flow: Flow = { v6: true, proto: TCP, src: v6src, dst: v6dst, sport: 3, dport: 4, ext: [43] };
  const hdr = new VirtioNetHdr();
  const pkt = superPacket(flow, { seq: 1, ack: 1, flags: Flag.ACK, payload: payload(1500, 8) }, 500, hdr);
  assert.equal(pkt[40], TCP, 'the routing header comes first');
  assert.equal(pkt[40 + 3], 0);
  assert.equal((split(pkt, hdr) as Uint8Array[]).length, 3, 'none left: split');
  pkt[40 + 3] = 1;
  assert.equal(split(pkt, hdr), -1);
});

test('hdrLen is a hint: the parsed header length is used whatever it says', () => {
  const first: Seg = { seq: 1, ack: 1, payload: payload(2500, 8) };
  const hdr = new VirtioNetHdr();
  const pkt = superPacket(v4, first, 1000, hdr);
  for (const hint of [0, 30, 1040, 65535]) {
    hdr.hdrLen = hint;
    assert.deepEqual(split(pkt, hdr), referenceSegments(v4, first, 1000), `hdrLen ${hint}`);
  }
});

test('malformed packets and headers give -1, a short offsets array -2, never a throw', () => {
  const first: Seg = { seq: 1, ack: 1, payload: payload(3000, 7) };
  const hdr = new VirtioNetHdr();
  const good = superPacket(v4, first, 1000, hdr);
  const cases: [string, (p: Uint8Array, h: VirtioNetHdr) => void][] = [
    ['gsoSize 0', (_p, h) => (h.gsoSize = 0)],
    ['csumStart not the L4 header', (_p, h) => (h.csumStart = 24)],
    ['csumOffset not the TCP checksum', (_p, h) => (h.csumOffset = 6)],
    ['TcpV6 on an IPv4 packet', (_p, h) => (h.gsoType = VirtioGsoType.TcpV6)],
    ['UdpL4 on TCP', (_p, h) => (h.gsoType = VirtioGsoType.UdpL4)],
    ['unknown gsoType', (_p, h) => (h.gsoType = 3)],
    ['IPv4 total length wrong', (p) => (p[3] ^= 1)],
    ['IPv4 fragment', (p) => (p[6] |= 0x20)],
    ['TCP data offset < 5', (p) => (p[32] = 0x40)],
    ['IHL < 5', (p) => (p[0] = 0x44)],
    ['version 5', (p) => (p[0] = 0x55)],
  ];
  for (const [name, spoil] of cases) {
    const p = good.slice();
    const h = new VirtioNetHdr();
    Object.assign(h, hdr);
    spoil(p, h);
    assert.equal(split(p, h), -1, name);
  }
  assert.equal(split(good, hdr, 2), -2);
  assert.equal(split(good, hdr, 64, 1000), -1, 'segment larger than the slot');
  const v6frag: Flow = { v6: true, proto: TCP, src: v6src, dst: v6dst, sport: 1, dport: 2, ext: [44] };
  const h6 = new VirtioNetHdr();
  assert.equal(split(superPacket(v6frag, first, 1000, h6), h6), -1, 'IPv6 fragment header');
  const v6hbhLate: Flow = { ...v6frag, ext: [60, 0] };
  assert.equal(split(superPacket(v6hbhLate, first, 1000, h6), h6), -1, 'hop-by-hop not first');
  const none = new VirtioNetHdr();
  none.flags = VirtioNetFlag.NeedsCsum;
  none.csumStart = good.length - 1;
  assert.equal(split(good, none), -1, 'checksum field past the end');
});

test('property: random flows, MSS and payloads split as the reference does', () => {
  const next = seededRandom(12);
  const hdr = new VirtioNetHdr();
  for (let run = 0; run < 300; run++) {
    const flow = randomFlow(next, next() < 0.7 ? TCP : UDP, true);
    const mss = 1 + ((next() * 1400) | 0);
    const first: Seg = {
      seq: (next() * 2 ** 32) >>> 0,
      ack: (next() * 2 ** 32) >>> 0,
      flags: Flag.ACK | (next() < 0.3 ? Flag.PSH : 0) | (next() < 0.2 ? Flag.FIN : 0) | (next() < 0.2 ? Flag.CWR : 0),
      id: (next() * 65536) | 0,
      payload: randomBytes(next, 1 + ((next() * Math.min(20000, mss * 40)) | 0)),
    };
    const pkt = superPacket(flow, first, mss, hdr);
    const segs = split(pkt, hdr, 64);
    const want = referenceSegments(flow, first, mss);
    if (want.length > 64) {
      assert.equal(segs, -2);
      continue;
    }
    assert.deepEqual(segs, want, `run ${run}`);
    for (const s of segs as Uint8Array[]) assert.ok(checksumsVerify(s, flow));
  }
});

test('fuzz: random headers and mutated super-packets never throw', () => {
  const next = seededRandom(99);
  const hdr = new VirtioNetHdr();
  const buf = new Uint8Array(SLOT * 8 + 70000);
  const offsets = Int32Array.from({ length: 8 }, (_, i) => (i === 0 ? SLOT * 8 : i * SLOT));
  const lengths = new Int32Array(8);
  let rejected = 0;
  let accepted = 0;
  for (let run = 0; run < 3000; run++) {
    const flow = randomFlow(next, next() < 0.5 ? TCP : UDP, true);
    const good = superPacket(flow, { seq: 1, payload: randomBytes(next, (next() * 6000) | 0) }, 1 + ((next() * 1500) | 0), hdr);
    const pkt = next() < 0.3 ? randomBytes(next, (next() * 200) | 0) : good;
    for (let k = (next() * 4) | 0; k >= 0; k--) pkt[(next() * Math.min(pkt.length, 80)) | 0] = (next() * 256) | 0;
    if (next() < 0.5) {
      const field = (next() * 6) | 0;
      const v = next() < 0.5 ? (next() * 256) | 0 : (next() * 65536) | 0;
      if (field === 0) hdr.flags = v & 0xff;
      else if (field === 1) hdr.gsoType = v & 0xff;
      else if (field === 2) hdr.hdrLen = v;
      else if (field === 3) hdr.gsoSize = v;
      else if (field === 4) hdr.csumStart = v;
      else hdr.csumOffset = v;
    }
    buf.set(pkt, offsets[0]);
    const len = next() < 0.1 ? -5 : pkt.length;
    const count = segmentCount(buf, offsets[0], len, hdr);
    const n = splitSegments(buf, offsets[0], len, hdr, offsets, SLOT, lengths);
    // The split agrees with the count, except for a segment too big for the slot (-1) or too many (-2).
    assert.ok(n === count || (n === -2 && count > 8) || (n === -1 && count >= 1), `run ${run}: ${n} for ${count}`);
    if (n < 0) rejected++;
    else accepted++;
  }
  assert.ok(rejected > 1000 && accepted > 100, `rejected ${rejected}, accepted ${accepted}`);
});
