import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VIRTIO_NET_HDR_LEN, VirtioGsoType, VirtioNetFlag, VirtioNetHdr } from './virtio-net-hdr.js';

test('virtio_net_hdr is 10 little-endian bytes in the kernel layout', () => {
  const h = new VirtioNetHdr();
  h.flags = VirtioNetFlag.NeedsCsum;
  h.gsoType = VirtioGsoType.TcpV6 | VirtioGsoType.Ecn;
  h.hdrLen = 0x0102;
  h.gsoSize = 1388;
  h.csumStart = 40;
  h.csumOffset = 16;
  const buf = new Uint8Array(14).fill(0xee);
  h.write(buf, 2);
  assert.deepEqual([...buf], [0xee, 0xee, 1, 0x84, 0x02, 0x01, 1388 & 0xff, 1388 >> 8, 40, 0, 16, 0, 0xee, 0xee]);
  assert.equal(VIRTIO_NET_HDR_LEN, 10);
  const r = new VirtioNetHdr();
  r.read(buf, 2);
  assert.deepEqual({ ...r }, { ...h });
  r.clear();
  r.write(buf, 2);
  assert.deepEqual([...buf.subarray(2, 12)], new Array(10).fill(0));
});

test('read takes fields up to 0xffff', () => {
  const buf = new Uint8Array(10).fill(0xff);
  const h = new VirtioNetHdr();
  h.read(buf, 0);
  assert.deepEqual([h.flags, h.gsoType, h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset], [255, 255, 65535, 65535, 65535, 65535]);
});
