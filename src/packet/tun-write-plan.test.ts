import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitSegments } from './tso-split.js';
import { TunWritePlan } from './tun-write-plan.js';
import { VIRTIO_NET_HDR_LEN, VirtioGsoType, VirtioNetFlag, VirtioNetHdr } from './virtio-net-hdr.js';
import { foldSum, pseudoSumIPv4 } from './checksum.js';
import { checksumAdjust16 } from './checksum-update.js';
import { Flag, type Flow, type Seg, TCP, UDP, buildPacket, checksumsVerify, randomBytes, randomFlow, superPacket } from '../../test/support/offload-packets.js';
import { seededRandom } from '../../test/support/seeded-random.js';
import { groupBytes, kernelReceives, kernelReceivesAll, layOut } from '../../test/support/tun-write-emulation.js';

const v4: Flow = { v6: false, proto: TCP, src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 40000, dport: 5201 };
const v6: Flow = {
  v6: true,
  proto: TCP,
  src: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
  dst: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
  sport: 1000,
  dport: 2000,
  tcpOptions: [1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0],
};

/** A run of segments of one flow: `sizes` payload bytes each, from sequence `seq`. */
function run(flow: Flow, seq: number, sizes: number[], last: Partial<Seg> = {}, seed = 1): Uint8Array[] {
  const next = seededRandom(seed);
  return sizes.map((n, i) => {
    const seg: Seg = { seq: (seq + sizes.slice(0, i).reduce((a, b) => a + b, 0)) >>> 0, ack: 42, flags: Flag.ACK, id: 100 + i, payload: randomBytes(next, n) };
    return buildPacket(flow, i === sizes.length - 1 ? { ...seg, ...last } : seg);
  });
}

function plan(packets: Uint8Array[], coalesce = true, udp = false): { p: TunWritePlan; buf: Uint8Array; offsets: Int32Array; lengths: Int32Array } {
  const { buf, offsets, lengths } = layOut(packets);
  const p = new TunWritePlan(64);
  p.udp = udp;
  assert.equal(p.build(buf, offsets, lengths, packets.length, coalesce), p.groupCount);
  return { p, buf, offsets, lengths };
}

function groupsOf(p: TunWritePlan): number[] {
  return Array.from(p.groupPackets.subarray(0, p.groupCount));
}

test('three IPv4 segments with PSH on the last become one super-packet', () => {
  const pkts = run(v4, 0xffffff00, [1000, 1000, 400], { flags: Flag.ACK | Flag.PSH });
  const { p, buf, offsets } = plan(pkts);
  assert.deepEqual(groupsOf(p), [3]);
  assert.deepEqual(Array.from(p.iovOffsets.subarray(0, 3)), [offsets[0] - 10, offsets[1] + 40, offsets[2] + 40]);
  assert.deepEqual(Array.from(p.iovLengths.subarray(0, 3)), [1050, 1000, 400]);
  const hdr = new VirtioNetHdr();
  hdr.read(buf, offsets[0] - VIRTIO_NET_HDR_LEN);
  assert.deepEqual({ ...hdr }, { flags: VirtioNetFlag.NeedsCsum, gsoType: VirtioGsoType.TcpV4, hdrLen: 40, gsoSize: 1000, csumStart: 20, csumOffset: 16 });
  const head = buf.subarray(offsets[0]);
  assert.equal((head[2] << 8) | head[3], 2440);
  assert.equal(head[33], Flag.ACK | Flag.PSH);
  assert.equal((head[36] << 8) | head[37], foldSum(pseudoSumIPv4(0x0a000001, 0x0a000002, TCP, 2420)));
  assert.deepEqual(kernelReceives(p, buf, 0), pkts);
});

test('IPv6 with timestamps: one group, hdrLen with options, the kernel gets the same segments', () => {
  const pkts = run(v6, 7, [1368, 1368, 1368, 1]);
  const { p, buf, offsets } = plan(pkts);
  assert.deepEqual(groupsOf(p), [4]);
  const hdr = new VirtioNetHdr();
  hdr.read(buf, offsets[0] - VIRTIO_NET_HDR_LEN);
  assert.deepEqual([hdr.gsoType, hdr.hdrLen, hdr.gsoSize, hdr.csumStart], [VirtioGsoType.TcpV6, 72, 1368, 40]);
  assert.equal((buf[offsets[0] + 4] << 8) | buf[offsets[0] + 5], 32 + 3 * 1368 + 1);
  assert.deepEqual(kernelReceivesAll(p, buf), pkts);
});

test('what is never merged', () => {
  const base = (): Uint8Array[] => run(v4, 1, [500, 500]);
  const cases: [string, (pkts: Uint8Array[]) => void][] = [
    ['TTL differs', (k) => k[1].set(buildPacket({ ...v4, ttl: 9 }, { seq: 501, ack: 42, payload: k[1].subarray(40) }))],
    ['CE mark on the second', (k) => k[1].set(buildPacket({ ...v4, tos: 3 }, { seq: 501, ack: 42, payload: k[1].subarray(40) }))],
    ['DF differs', (k) => k[1].set(buildPacket({ ...v4, df: false }, { seq: 501, ack: 42, payload: k[1].subarray(40) }))],
    ['ack differs', (k) => k[1].set(buildPacket(v4, { seq: 501, ack: 43, payload: k[1].subarray(40) }))],
    ['sequence gap', (k) => k[1].set(buildPacket(v4, { seq: 502, ack: 42, payload: k[1].subarray(40) }))],
    ['PSH on the first', (k) => k[0].set(buildPacket(v4, { seq: 1, ack: 42, flags: Flag.ACK | Flag.PSH, payload: k[0].subarray(40) }))],
    ['CWR on the second', (k) => k[1].set(buildPacket(v4, { seq: 501, ack: 42, flags: Flag.ACK | Flag.CWR, payload: k[1].subarray(40) }))],
    ['ECE on one only', (k) => k[1].set(buildPacket(v4, { seq: 501, ack: 42, flags: Flag.ACK | Flag.ECE, payload: k[1].subarray(40) }))],
    ['FIN', (k) => k[1].set(buildPacket(v4, { seq: 501, ack: 42, flags: Flag.ACK | Flag.FIN, payload: k[1].subarray(40) }))],
    ['URG', (k) => k[1].set(buildPacket(v4, { seq: 501, ack: 42, flags: Flag.ACK | Flag.URG, payload: k[1].subarray(40) }))],
    ['SYN', (k) => k[0].set(buildPacket(v4, { seq: 1, ack: 42, flags: Flag.ACK | Flag.SYN, payload: k[0].subarray(40) }))],
    ['RST', (k) => k[1].set(buildPacket(v4, { seq: 501, ack: 42, flags: Flag.ACK | Flag.RST, payload: k[1].subarray(40) }))],
    ['window differs', (k) => {
      const c = checksumAdjust16((k[1][36] << 8) | k[1][37], (k[1][34] << 8) | k[1][35], ((k[1][34] ^ 1) << 8) | k[1][35]);
      k[1][34] ^= 1;
      k[1][36] = c >> 8;
      k[1][37] = c & 0xff;
    }],
    ['bad TCP checksum on the second', (k) => (k[1][45] ^= 0x55)],
    ['bad TCP checksum on the head', (k) => (k[0][45] ^= 0x55)],
    ['bad IPv4 header checksum', (k) => (k[1][10] ^= 1)],
    ['other port', (k) => k[1].set(buildPacket({ ...v4, dport: 1 }, { seq: 501, ack: 42, payload: k[1].subarray(40) }))],
  ];
  for (const [name, spoil] of cases) {
    const pkts = base();
    spoil(pkts);
    const copies = pkts.map((b) => b.slice());
    const { p, buf } = plan(pkts);
    assert.deepEqual(groupsOf(p), [1, 1], name);
    assert.deepEqual(kernelReceivesAll(p, buf), copies, `${name}: written alone, unchanged`);
  }
  assert.deepEqual(groupsOf(plan(base()).p), [2], 'the unspoilt pair merges');
});

test('group ends: a shorter segment, a larger follower, options, 64 KiB, IPv4 options, UDP', () => {
  assert.deepEqual(groupsOf(plan(run(v4, 1, [500, 300, 300])).p), [2, 1], 'nothing follows a shorter one');
  assert.deepEqual(groupsOf(plan(run(v4, 1, [300, 500, 500])).p), [1, 2], 'a larger one starts a new group');
  const big = run(v6, 1, Array(50).fill(1368));
  const total = 72 + 1368 * 50;
  assert.ok(total > 65535);
  assert.deepEqual(groupsOf(plan(big).p), [47, 3], '≤ 65535 bytes per super-packet');
  const opts = run(v6, 1, [100, 100]);
  opts[1].set(buildPacket({ ...v6, tcpOptions: [1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 1] }, { seq: 101, ack: 42, payload: opts[1].subarray(72) }));
  assert.deepEqual(groupsOf(plan(opts).p), [1, 1], 'timestamps differ');
  const withOptions = run(v4, 1, [100, 100]).map((b) => {
    const o = new Uint8Array(b.length + 4);
    o.set(b.subarray(0, 20));
    o[0] = 0x46;
    o.set(b.subarray(20), 24);
    o[3] += 4;
    return o;
  });
  assert.deepEqual(groupsOf(plan(withOptions).p), [1, 1], 'IPv4 options');
  const udp = run({ ...v4, proto: UDP }, 0, [100, 100]);
  assert.deepEqual(groupsOf(plan(udp).p), [1, 1], 'UDP is written as it is');
});

test('a group holds at most 1024 packets, what one writev takes (batches larger than the default)', () => {
  const pkts = run(v4, 1, Array(1100).fill(1));
  const { buf, offsets, lengths } = layOut(pkts);
  const p = new TunWritePlan(2048);
  assert.equal(p.build(buf, offsets, lengths, pkts.length, true), 2);
  assert.deepEqual(groupsOf(p), [1024, 76]);
});

test('CWR on the head: the group is marked Ecn; the kernel puts CWR on the first segment only', () => {
  const pkts = run(v4, 5, [200, 200, 200]);
  pkts[0] = buildPacket(v4, { seq: 5, ack: 42, id: 100, flags: Flag.ACK | Flag.CWR | Flag.ECE, payload: pkts[0].subarray(40) });
  for (const i of [1, 2]) pkts[i] = buildPacket(v4, { seq: 5 + 200 * i, ack: 42, id: 100 + i, flags: Flag.ACK | Flag.ECE, payload: pkts[i].subarray(40) });
  const { p, buf, offsets } = plan(pkts);
  assert.deepEqual(groupsOf(p), [3]);
  assert.equal(buf[offsets[0] - 9], VirtioGsoType.TcpV4 | VirtioGsoType.Ecn);
  assert.deepEqual(kernelReceivesAll(p, buf), pkts);
});

test('flows interleaved keep their order; a packet that cannot merge holds its flow place', () => {
  const a = run(v4, 1, [100, 100, 100, 100], {}, 1);
  const b = run({ ...v4, sport: 1 }, 1, [100, 100], {}, 2);
  const pureAck = buildPacket(v4, { seq: 201, ack: 42, payload: new Uint8Array(0) });
  const batch = [a[0], b[0], a[1], b[1], pureAck, a[2], a[3], buildPacket({ ...v4, proto: UDP }, { payload: new Uint8Array(3) })];
  const { p, buf } = plan(batch);
  assert.deepEqual(groupsOf(p), [2, 2, 1, 2, 1]);
  assert.deepEqual(kernelReceivesAll(p, buf), [a[0], a[1], b[0], b[1], pureAck, a[2], a[3], batch[7]]);
});

test('UDP datagrams of one flow merge only when the TUN takes USO (udp = true)', () => {
  for (const flow of [{ ...v4, proto: UDP }, { ...v6, proto: UDP, tcpOptions: undefined }] as Flow[]) {
    const pkts = run(flow, 0, [1200, 1200, 500, 500]);
    const copies = pkts.map((b) => b.slice());
    assert.deepEqual(groupsOf(plan(pkts.map((b) => b.slice())).p), [1, 1, 1, 1]);
    const { p, buf, offsets } = plan(pkts, true, true);
    assert.deepEqual(groupsOf(p), [3, 1]);
    const hdr = new VirtioNetHdr();
    hdr.read(buf, offsets[0] - VIRTIO_NET_HDR_LEN);
    const ip = flow.v6 ? 40 : 20;
    assert.deepEqual({ ...hdr }, { flags: VirtioNetFlag.NeedsCsum, gsoType: VirtioGsoType.UdpL4, hdrLen: ip + 8, gsoSize: 1200, csumStart: ip, csumOffset: 6 });
    assert.equal((buf[offsets[0] + ip + 4] << 8) | buf[offsets[0] + ip + 5], 8 + 2900);
    assert.deepEqual(kernelReceivesAll(p, buf), copies);
    const members = new Int32Array(4);
    assert.equal(p.unmerge(buf, 0, members), 3);
    assert.deepEqual(buf.slice(offsets[0], offsets[0] + copies[0].length), copies[0]);
  }
  const noChecksum = run({ ...v4, proto: UDP }, 0, [100, 100]);
  for (const b of noChecksum) b[26] = b[27] = 0;
  assert.deepEqual(groupsOf(plan(noChecksum, true, true).p), [1, 1], 'a datagram without checksum is left alone');
  const ttl = run({ ...v4, proto: UDP }, 0, [100, 100]);
  ttl[1] = buildPacket({ ...v4, proto: UDP, ttl: 3 }, { payload: ttl[1].subarray(28) });
  assert.deepEqual(groupsOf(plan(ttl, true, true).p), [1, 1], 'IP fields differ');
});

test('without coalescing every packet is one group with a plain virtio header', () => {
  const pkts = run(v4, 1, [100, 100, 100]);
  const { p, buf, offsets } = plan(pkts, false);
  assert.deepEqual(groupsOf(p), [1, 1, 1]);
  for (let g = 0; g < 3; g++) {
    assert.deepEqual([...buf.subarray(offsets[g] - 10, offsets[g])], Array(10).fill(0));
    assert.deepEqual(groupBytes(p, buf, g).subarray(10), pkts[g]);
  }
});

test('unmerge restores the head and gives the members to write one by one', () => {
  const pkts = run(v4, 1, [700, 700, 5], { flags: Flag.ACK | Flag.PSH });
  const copies = pkts.map((b) => b.slice());
  const { p, buf, offsets, lengths } = plan([buildPacket(v6, { payload: new Uint8Array(1) }), ...pkts]);
  assert.deepEqual(groupsOf(p), [1, 3]);
  const members = new Int32Array(64);
  assert.equal(p.unmerge(buf, 1, members), 3);
  assert.deepEqual(Array.from(members.subarray(0, 3)), [1, 2, 3]);
  for (let i = 1; i <= 3; i++) {
    assert.deepEqual(buf.slice(offsets[i] - 10, offsets[i] + lengths[i]), Uint8Array.from([...Array(10).fill(0), ...copies[i - 1]]));
  }
  assert.equal(p.unmerge(buf, 0, members), 1);
  assert.equal(members[0], 0);
  assert.equal(p.unmerge(buf, 2, members), -1);
  assert.equal(p.unmerge(buf, 1, new Int32Array(2)), -1);
});

test('bad arguments: too many packets or no headroom give -1', () => {
  const { buf, offsets, lengths } = layOut(run(v4, 1, [10, 10]));
  assert.equal(new TunWritePlan(1).build(buf, offsets, lengths, 2, true), -1);
  offsets[1] = 4;
  assert.equal(new TunWritePlan(4).build(buf, offsets, lengths, 2, true), -1);
});

test('property: random flows interleaved; per flow the kernel gets the input; checksums verify', () => {
  const next = seededRandom(2026);
  let merged = 0;
  for (let round = 0; round < 150; round++) {
    const flows: Flow[] = [];
    const streams: Uint8Array[][] = [];
    for (let f = 1 + ((next() * 4) | 0); f > 0; f--) {
      const isV6 = next() < 0.5;
      const flow: Flow = {
        ...(isV6 ? v6 : v4),
        sport: streams.length + 1,
        tos: next() < 0.1 ? 3 : 0,
        tcpOptions: next() < 0.5 ? undefined : [1, 1, 8, 10, 0, 0, 0, f, 0, 0, 0, 1],
      };
      const mss = 1 + ((next() * 1400) | 0);
      const sizes = Array.from({ length: 1 + ((next() * 20) | 0) }, () => (next() < 0.15 ? 1 + ((next() * mss) | 0) : mss));
      const pkts = run(flow, (next() * 2 ** 32) >>> 0, sizes, next() < 0.3 ? { flags: Flag.ACK | Flag.PSH } : {}, round * 10 + f);
      if (next() < 0.2) {
        const k = pkts[(next() * pkts.length) | 0];
        k[k.length - 1] ^= 0x10; // a corrupted payload byte: never merged
      }
      flows.push(flow);
      streams.push(pkts);
    }
    const batch: Uint8Array[] = [];
    const flowOf: number[] = [];
    const cursor = streams.map(() => 0);
    while (batch.length < streams.reduce((n, s) => n + s.length, 0)) {
      const f = (next() * streams.length) | 0;
      if (cursor[f] < streams[f].length) {
        batch.push(streams[f][cursor[f]++]);
        flowOf.push(f);
      }
    }
    if (batch.length > 64) batch.length = 64;
    const copies = batch.map((b) => b.slice());
    const { p, buf } = plan(batch);
    const got = kernelReceivesAll(p, buf);
    merged += groupsOf(p).filter((n) => n > 1).length;
    assert.equal(got.length, batch.length, `round ${round}`);
    for (let f = 0; f < streams.length; f++) {
      const want = copies.filter((_, i) => flowOf[i] === f);
      const have = got.filter((b) => (b[0] >> 4 === 6) === flows[f].v6 && ((b[flows[f].v6 ? 40 : 20] << 8) | b[flows[f].v6 ? 41 : 21]) === f + 1);
      assert.deepEqual(have, want, `round ${round} flow ${f} groups ${groupsOf(p).join(",")} have ${have.map((b) => b.length).join(",")} want ${want.map((b) => b.length).join(",")} all ${got.length} ${batch.length}`);
    }
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const flowFor = (b: Uint8Array): Flow => (b[0] >> 4 === 6 ? v6 : v4);
    const corrupted = new Set(copies.filter((c) => !checksumsVerify(c, flowFor(c))).map(hex));
    for (const b of got) assert.ok(checksumsVerify(b, flowFor(b)) || corrupted.has(hex(b)), `round ${round}: a merged packet verifies`);
  }
  assert.ok(merged > 150, `${merged} super-packets`);
});

test('property: split → coalesce → split gives the same segments', () => {
  const next = seededRandom(77);
  for (let round = 0; round < 200; round++) {
    const flow = randomFlow(next, next() < 0.7 ? TCP : UDP, false);
    const mss = 1 + ((next() * 1400) | 0);
    const first: Seg = {
      seq: (next() * 2 ** 32) >>> 0,
      ack: (next() * 2 ** 32) >>> 0,
      flags: Flag.ACK | (next() < 0.3 ? Flag.PSH : 0) | (next() < 0.2 ? Flag.CWR | Flag.ECE : 0),
      id: (next() * 65536) | 0,
      payload: randomBytes(next, 1 + ((next() * Math.min(30000, mss * 40)) | 0)),
    };
    const hdr = new VirtioNetHdr();
    const sup = superPacket(flow, first, mss, hdr);
    const slots = layOut(Array.from({ length: 64 }, () => new Uint8Array(0)));
    const big = new Uint8Array(slots.buf.length + 70000);
    big.set(sup, slots.buf.length);
    const dst = Int32Array.from(slots.offsets);
    dst[0] = slots.buf.length;
    const lengths = new Int32Array(64);
    const n = splitSegments(big, slots.buf.length, sup.length, hdr, dst, 2000, lengths);
    if (n === -2) continue;
    assert.ok(n >= 1, `round ${round}: ${n}`);
    const segs = Array.from({ length: n }, (_, i) => big.slice(dst[i], dst[i] + lengths[i]));
    const { p, buf } = plan(segs, true, true);
    assert.deepEqual(kernelReceivesAll(p, buf), segs, `round ${round}`);
    if (n > 1) assert.ok(p.groupCount < n, `round ${round}: merged`);
  }
});

test('fuzz: garbage in a batch never throws and every packet is written exactly once', () => {
  const next = seededRandom(5);
  const p = new TunWritePlan(32);
  for (let round = 0; round < 500; round++) {
    const pkts = run(next() < 0.5 ? v4 : v6, 1, Array.from({ length: 1 + ((next() * 20) | 0) }, () => 1 + ((next() * 200) | 0)));
    for (const k of pkts) for (let n = (next() * 3) | 0; n > 0; n--) k[(next() * Math.min(k.length, 80)) | 0] = (next() * 256) | 0;
    if (next() < 0.3) pkts.push(randomBytes(next, (next() * 100) | 0));
    const { buf, offsets, lengths } = layOut(pkts);
    const groups = p.build(buf, offsets, lengths, pkts.length, true);
    assert.equal(groups, p.groupCount);
    const seen = new Set<number>();
    const members = new Int32Array(32);
    for (let g = 0; g < groups; g++) for (let k = 0, n = p.unmerge(buf, g, members); k < n; k++) seen.add(members[k]);
    assert.equal(seen.size, pkts.length, `round ${round}`);
  }
});
