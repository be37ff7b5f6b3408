/**
 * The TUN offload read and write halves over a scripted kernel: packets the fake
 * tunReadBatch hands out (virtio header first, as the TUN does), and the groups the fake
 * tunWritevBatch receives. The real kernel is in test/netns/tun-offload.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool, SlotClass } from '../buffer/pool.js';
import { VIRTIO_NET_HDR_LEN, VirtioGsoType, VirtioNetHdr } from '../packet/virtio-net-hdr.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import { collectionsDuring } from '../../test/support/gc-count.js';
import { buildPacket, checksumsVerify, Flag, referenceSegments, superPacket, TCP, type Flow, type Seg } from '../../test/support/offload-packets.js';
import type { NativeIo } from './native.js';
import { TunOffloadReader } from './tun-offload-read.js';
import { TunOffloadWriter } from './tun-offload-write.js';

const v4: Flow = { v6: false, proto: TCP, src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 40000, dport: 5201 };
const EINVAL = -22;

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}

/** A kernel that hands out queued reads (virtio header + packet) and records or refuses writes. */
class FakeKernel {
  readonly reads: Uint8Array[] = [];
  /** Each writev's bytes, concatenated. */
  readonly written: Uint8Array[] = [];
  /** Result of the next writevs, in order (absent: 0). */
  readonly refuse: number[] = [];

  queue(hdr: VirtioNetHdr, pkt: Uint8Array): void {
    const b = new Uint8Array(VIRTIO_NET_HDR_LEN + pkt.length);
    hdr.write(b, 0);
    b.set(pkt, VIRTIO_NET_HDR_LEN);
    this.reads.push(b);
  }

  native(): NativeIo {
    const reads = this.reads;
    const written = this.written;
    const refuse = this.refuse;
    return {
      tunReadBatch(_fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, maxLen: number, count: number, status?: Int32Array): number {
        if (status) status[0] = status[1] = 0;
        let n = 0;
        while (n < count && reads.length > 0) {
          const b = reads.shift()!;
          const len = Math.min(b.length, maxLen);
          slab.set(b.subarray(0, len), offsets[n]);
          lengths[n++] = len >= maxLen ? -1 : len;
        }
        return n;
      },
      tunWritevBatch(_fd: number, slab: Uint8Array, offs: Int32Array, lens: Int32Array, start: Int32Array, cnt: Int32Array, groups: number, results: Int32Array): number {
        let ok = 0;
        for (let g = 0; g < groups; g++) {
          const r = refuse.shift() ?? 0;
          results[g] = r;
          if (r !== 0) continue;
          const parts: number[] = [];
          for (let i = start[g]; i < start[g] + cnt[g]; i++) parts.push(...slab.subarray(offs[i], offs[i] + lens[i]));
          written.push(Uint8Array.from(parts));
          ok++;
        }
        return ok;
      },
    } as unknown as NativeIo;
  }
}

function pool(slotCount = 256): BufferPool {
  return new BufferPool({ slotCount, largeSlotCount: 8 });
}

function packetsOf(p: BufferPool, batch: PacketBatch): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < batch.count; i++) out.push(Uint8Array.from(p.slab.subarray(batch.offsets[i], batch.offsets[i] + batch.lengths[i])));
  return out;
}

function release(p: BufferPool, batch: PacketBatch): void {
  p.releaseMany(batch.slots, batch.count);
  batch.clear();
}

const status = new Int32Array(2);

test('a TSO super-packet becomes its segments in order, each in its own small slot, then a plain packet', () => {
  const p = pool();
  const k = new FakeKernel();
  const hdr = new VirtioNetHdr();
  const first: Seg = { seq: 1000, ack: 5, flags: Flag.ACK | Flag.PSH, id: 7, payload: bytes(3 * 1380 + 20, 1) };
  k.queue(hdr, superPacket(v4, first, 1380, hdr));
  const plain = buildPacket(v4, { seq: 9, ack: 5, flags: Flag.ACK, id: 8, payload: bytes(100, 2) });
  k.queue(new VirtioNetHdr(), plain);
  const reader = new TunOffloadReader(k.native(), p, 128);
  const batch = new PacketBatch(128);
  assert.equal(reader.readBatch(3, batch, status), 5);
  const got = packetsOf(p, batch);
  assert.deepEqual(got.slice(0, 4), referenceSegments(v4, first, 1380));
  assert.deepEqual(got[4], plain);
  for (const s of got) assert.ok(checksumsVerify(s, v4));
  for (let i = 0; i < batch.count; i++) assert.equal(p.classOf(batch.slots[i]), SlotClass.Small);
  assert.equal(reader.superPackets, 1);
  assert.equal(reader.segments, 4);
  assert.equal(reader.pending, false);
  release(p, batch);
  reader.releaseAll();
  p.assertNoLeaks();
});

test('segments that do not fit the batch wait, unsplit, for the next call (pending); nothing is lost or reordered', () => {
  const p = pool();
  const k = new FakeKernel();
  const firsts: Seg[] = [];
  for (let i = 0; i < 3; i++) {
    const hdr = new VirtioNetHdr();
    firsts.push({ seq: 1 + i * 3000, ack: 1, flags: Flag.ACK, id: i * 3, payload: bytes(3000, i) });
    k.queue(hdr, superPacket(v4, firsts[i], 1000, hdr));
  }
  const reader = new TunOffloadReader(k.native(), p, 8);
  const batch = new PacketBatch(8);
  const all: Uint8Array[] = [];
  // 8 slots: the first two super-packets (6 segments) fit, the third waits.
  assert.equal(reader.readBatch(3, batch, status), 6);
  assert.equal(reader.pending, true);
  all.push(...packetsOf(p, batch));
  release(p, batch);
  assert.equal(reader.readBatch(3, batch, status), 3);
  assert.equal(reader.pending, false);
  all.push(...packetsOf(p, batch));
  release(p, batch);
  assert.deepEqual(all, firsts.flatMap((f) => referenceSegments(v4, f, 1000)));
  reader.releaseAll();
  p.assertNoLeaks();
});

test('a malformed packet is dropped and counted (tun_offload_bad_packet); the packets around it pass; no slot leaks', () => {
  const p = pool();
  const k = new FakeKernel();
  const hdr = new VirtioNetHdr();
  const first: Seg = { seq: 1, ack: 1, flags: Flag.ACK, id: 1, payload: bytes(2000, 3) };
  const bad = superPacket(v4, first, 1000, hdr);
  bad[3] ^= 0x40; // IPv4 total length no longer matches
  k.queue(hdr, bad);
  const tooMany = new VirtioNetHdr();
  k.queue(tooMany, superPacket(v4, first, 100, tooMany)); // 20 segments: more than the batch holds
  const plain = buildPacket(v4, { seq: 9, ack: 5, flags: Flag.ACK, id: 8, payload: bytes(10, 2) });
  k.queue(new VirtioNetHdr(), plain);
  k.reads.push(new Uint8Array(4)); // shorter than a virtio header
  const reader = new TunOffloadReader(k.native(), p, 16);
  const drops = new DropCounters();
  reader.drops = drops;
  const batch = new PacketBatch(16);
  assert.equal(reader.readBatch(3, batch, status), 1);
  assert.deepEqual(packetsOf(p, batch), [plain]);
  assert.equal(reader.badPackets, 3);
  assert.equal(drops.get(DropReason.TunOffloadBadPacket), 3);
  release(p, batch);
  reader.releaseAll();
  p.assertNoLeaks();
});

test('a pool without slots for the segments: the packet waits (splitStarved), none is taken; it passes once slots are back', () => {
  const p = pool(8);
  const k = new FakeKernel();
  const hdr = new VirtioNetHdr();
  const first: Seg = { seq: 1, ack: 1, flags: Flag.ACK, id: 1, payload: bytes(5000, 4) };
  k.queue(hdr, superPacket(v4, first, 1000, hdr));
  const reader = new TunOffloadReader(k.native(), p, 16);
  const held = new Int32Array(6);
  assert.equal(p.acquireInto(held, 6), 6); // 2 small slots left, 5 wanted
  const batch = new PacketBatch(16);
  assert.equal(reader.readBatch(3, batch, status), 0);
  assert.equal(reader.splitStarved, 1);
  assert.equal(reader.starvedFor, 5);
  assert.equal(reader.pending, true);
  assert.equal(p.available, 2, 'the slots tried were given back');
  p.releaseMany(held, 6);
  assert.equal(reader.readBatch(3, batch, status), 5);
  assert.equal(reader.starvedFor, 0);
  assert.deepEqual(packetsOf(p, batch), referenceSegments(v4, first, 1000));
  release(p, batch);
  reader.releaseAll();
  p.assertNoLeaks();
});

test('no large slot to read into: the reader asks to wait for one (the fd would otherwise call back every turn)', () => {
  const p = pool();
  const k = new FakeKernel();
  const plain = buildPacket(v4, { seq: 9, ack: 5, flags: Flag.ACK, id: 8, payload: bytes(10, 3) });
  k.queue(new VirtioNetHdr(), plain);
  const held = new Int32Array(8);
  assert.equal(p.acquireInto(held, 8, SlotClass.Large), 8);
  const reader = new TunOffloadReader(k.native(), p, 16);
  const batch = new PacketBatch(16);
  assert.equal(reader.readBatch(3, batch, status), 0);
  assert.equal(reader.starvedFor, 1);
  assert.equal(reader.starvedClass, SlotClass.Large);
  p.releaseMany(held, 8);
  assert.equal(reader.readBatch(3, batch, status), 1);
  assert.equal(reader.starvedFor, 0);
  assert.deepEqual(packetsOf(p, batch), [plain]);
  release(p, batch);
  reader.releaseAll();
  p.assertNoLeaks();
});

test('a packet without GSO that needs its checksum gets it completed in its slot', () => {
  const p = pool();
  const k = new FakeKernel();
  const hdr = new VirtioNetHdr();
  const first: Seg = { seq: 1, ack: 1, flags: Flag.ACK | Flag.PSH, id: 1, payload: bytes(700, 5) };
  // A super-packet of one segment is the kernel's CHECKSUM_PARTIAL packet once gsoType is cleared.
  const pkt = superPacket(v4, first, 1000, hdr);
  hdr.gsoType = VirtioGsoType.None;
  hdr.gsoSize = 0;
  k.queue(hdr, pkt);
  const reader = new TunOffloadReader(k.native(), p, 16);
  const batch = new PacketBatch(16);
  assert.equal(reader.readBatch(3, batch, status), 1);
  const [got] = packetsOf(p, batch);
  assert.deepEqual(got, buildPacket(v4, first));
  assert.equal(reader.superPackets, 0);
  release(p, batch);
  reader.releaseAll();
});

/** Puts packets in fresh small slots (at their data offset) of a batch. */
function batchOf(p: BufferPool, pkts: Uint8Array[]): PacketBatch {
  const b = new PacketBatch(64);
  for (const pkt of pkts) {
    const slot = p.acquire();
    const off = p.dataOffset(slot);
    p.slab.set(pkt, off);
    b.push(slot, off, pkt.length);
  }
  return b;
}

const flowSegs = (n: number, seed: number): Uint8Array[] => {
  const first: Seg = { seq: 100, ack: 1, flags: Flag.ACK | Flag.PSH, id: 1, payload: bytes(n * 1000, seed) };
  return referenceSegments(v4, first, 1000);
};

test('write: one writev per group; every packet of a coalesced flow is counted accepted', () => {
  const p = pool();
  const k = new FakeKernel();
  const w = new TunOffloadWriter(k.native(), p, 64);
  const segs = flowSegs(4, 6);
  const batch = batchOf(p, segs);
  const results = new Int32Array(64).fill(99);
  assert.equal(w.write(3, batch, results), 4);
  assert.deepEqual([...results.subarray(0, 4)], [0, 0, 0, 0]);
  assert.equal(k.written.length, w.groupsWritten);
  assert.ok(w.groupsWritten < 4, 'the flow was coalesced');
  assert.equal(w.packetsCoalesced, 4);
  // What the kernel got carries every payload byte once, behind virtio headers.
  const total = k.written.reduce((s, b) => s + b.length, 0);
  assert.equal(total, 4 * 1000 + 40 + VIRTIO_NET_HDR_LEN * k.written.length);
  release(p, batch);
});

test('write: a coalesced group refused with EINVAL is written again packet by packet (fallbacks), results exact per packet', () => {
  const p = pool();
  const k = new FakeKernel();
  const w = new TunOffloadWriter(k.native(), p, 64);
  const segs = flowSegs(3, 7);
  const batch = batchOf(p, segs);
  const results = new Int32Array(64);
  // The super-packet is refused; of the three plain retries the second fails with EIO.
  k.refuse.push(EINVAL, 0, -5, 0);
  assert.equal(w.write(3, batch, results), 2);
  assert.deepEqual([...results.subarray(0, 3)], [0, -5, 0]);
  assert.equal(w.fallbacks, 1);
  // Each retried packet went out whole, behind an all-zero virtio header.
  const zero = new Uint8Array(VIRTIO_NET_HDR_LEN);
  assert.deepEqual(k.written, [0, 2].map((i) => Uint8Array.from([...zero, ...segs[i]])));
  release(p, batch);
});

test('write: a packet without room for a virtio header before it is refused (EINVAL) and its neighbours written plainly', () => {
  const p = new BufferPool({ slotCount: 16, headroom: 16 });
  const k = new FakeKernel();
  const w = new TunOffloadWriter(k.native(), p, 64);
  const segs = flowSegs(2, 8);
  const batch = batchOf(p, segs);
  batch.offsets[1] -= 8; // 8 bytes of headroom left
  p.slab.set(segs[1], batch.offsets[1]);
  const results = new Int32Array(64);
  assert.equal(w.write(3, batch, results), 1);
  assert.deepEqual([...results.subarray(0, 2)], [0, EINVAL]);
  assert.equal(k.written.length, 1);
  release(p, batch);
});

test('reading and splitting super-packets, then writing them coalesced, allocate nothing (scavenges counted)', async () => {
  const p = pool(512);
  const hdr = new VirtioNetHdr();
  const first: Seg = { seq: 1, ack: 1, flags: Flag.ACK | Flag.PSH, id: 1, payload: bytes(16 * 1380, 9) };
  const wire = new Uint8Array(VIRTIO_NET_HDR_LEN + 16 * 1380 + 40);
  const pkt = superPacket(v4, first, 1380, hdr);
  hdr.write(wire, 0);
  wire.set(pkt, VIRTIO_NET_HDR_LEN);
  // A kernel that hands out the same super-packet forever and takes every write, copying byte by byte.
  let reads = 0;
  let writes = 0;
  const native = {
    tunReadBatch(_fd: number, slab: Uint8Array, offsets: Int32Array, lengths: Int32Array, _max: number, count: number, status: Int32Array): number {
      status[0] = status[1] = 0;
      for (let i = 0; i < count; i++) {
        const at = offsets[i];
        for (let b = 0; b < wire.length; b++) slab[at + b] = wire[b];
        lengths[i] = wire.length;
      }
      reads += count;
      return count;
    },
    tunWritevBatch(_fd: number, _slab: Uint8Array, _o: Int32Array, _l: Int32Array, _s: Int32Array, _c: Int32Array, groups: number, results: Int32Array): number {
      for (let g = 0; g < groups; g++) results[g] = 0;
      writes += groups;
      return groups;
    },
  } as unknown as NativeIo;
  const reader = new TunOffloadReader(native, p, 128);
  const writer = new TunOffloadWriter(native, p, 128);
  const batch = new PacketBatch(128);
  const results = new Int32Array(128);
  let accepted = 0;
  const cycle = (): void => {
    reader.readBatch(3, batch, status);
    accepted += writer.write(3, batch, results);
    p.releaseMany(batch.slots, batch.count);
    batch.clear();
  };
  for (let i = 0; i < 50; i++) cycle();
  accepted = 0;
  const gcs = await collectionsDuring(() => {
    for (let i = 0; i < 2_000; i++) cycle();
  });
  assert.ok(reads > 0 && writes > 0);
  assert.equal(accepted, 2_000 * 128, 'every segment read was written');
  assert.ok(writer.packetsCoalesced > 0);
  assert.equal(gcs, 0, `collections over 2 000 batches of 128 segments: ${gcs}`);
  reader.releaseAll();
  p.assertNoLeaks();
});
