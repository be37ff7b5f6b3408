/**
 * The TUN offload code runs per packet (split on every read, the plan on every write
 * batch): run both many times and count scavenges, which any per-packet allocation
 * would cause. The static scan of src/packet (no-alloc.test.ts) covers these files too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectionsDuring } from '../../test/support/gc-count.js';
import { Flag, type Flow, buildPacket, randomBytes, superPacket } from '../../test/support/offload-packets.js';
import { seededRandom } from '../../test/support/seeded-random.js';
import { SLOT, layOut } from '../../test/support/tun-write-emulation.js';
import { splitSegments } from './tso-split.js';
import { TunWritePlan } from './tun-write-plan.js';
import { VirtioNetHdr } from './virtio-net-hdr.js';

const v4: Flow = { v6: false, proto: 6, src: [10, 0, 0, 1], dst: [10, 0, 0, 2], sport: 1, dport: 2 };
const v6: Flow = { ...v4, v6: true, src: Array(16).fill(1), dst: Array(16).fill(2), ext: [0] };

test('splitting super-packets and planning coalesced writes allocate nothing', async () => {
  const next = seededRandom(3);
  const hdr = new VirtioNetHdr();
  const readHdr = new VirtioNetHdr();
  const pkt = superPacket(v6, { seq: 1, ack: 1, flags: Flag.ACK | Flag.PSH, payload: randomBytes(next, 8 * 1400) }, 1400, hdr);
  const readBuf = new Uint8Array(64 * SLOT + 70000);
  const dst = Int32Array.from({ length: 64 }, (_, i) => (i === 0 ? 64 * SLOT : i * SLOT));
  const dstLengths = new Int32Array(64);
  const batch = Array.from({ length: 64 }, (_, i) =>
    buildPacket(i % 2 === 0 ? v4 : { ...v4, sport: 9 }, { seq: 1 + (i >> 1) * 1000, ack: 5, payload: randomBytes(next, 1000) }),
  );
  const { buf, offsets, lengths } = layOut(batch);
  const pristine = buf.slice();
  const plan = new TunWritePlan(64);
  const members = new Int32Array(64);
  let segments = 0;
  let groups = 0;
  const cycle = (): void => {
    readBuf.set(pkt, dst[0]);
    hdr.write(readBuf, 0);
    readHdr.read(readBuf, 0);
    segments += splitSegments(readBuf, dst[0], pkt.length, readHdr, dst, SLOT, dstLengths);
    groups += plan.build(buf, offsets, lengths, 64, true);
    for (let g = 0; g < plan.groupCount; g++) plan.unmerge(buf, g, members);
    buf.set(pristine);
  };
  for (let i = 0; i < 200; i++) cycle(); // warm up (JIT)
  segments = 0;
  groups = 0;
  const gcs = await collectionsDuring(() => {
    for (let i = 0; i < 20_000; i++) cycle();
  });
  assert.equal(segments, 20_000 * 8);
  assert.equal(groups, 20_000 * 2, 'two flows, each one super-packet');
  assert.equal(gcs, 0, `collections over 20 000 splits of 8 segments and 20 000 plans of 64 packets: ${gcs}`);
});
