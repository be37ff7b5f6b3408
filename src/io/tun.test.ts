import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../buffer/pool.js';
import { TunDevice } from './tun.js';

// Opening a real device needs root: see test/netns/tun-ping.test.ts. These checks all
// fail before any system call.

test('TunDevice.open rejects bad names and missing options', () => {
  const pool = new BufferPool({ slotCount: 4 });
  assert.throws(() => TunDevice.open('a-name-longer-than-15', { pool }), { code: 'FERRY_INVALID_ARGUMENT', message: /at most 15 bytes/ });
  assert.throws(() => TunDevice.open('a/b', { pool }), { code: 'FERRY_INVALID_ARGUMENT' });
  assert.throws(() => TunDevice.open(7 as unknown as string, { pool }), { code: 'FERRY_INVALID_ARGUMENT' });
  assert.throws(() => TunDevice.open('fy0', {} as never), { code: 'FERRY_INVALID_ARGUMENT', message: /options.pool/ });
});

test('TunDevice.open refuses an MTU whose packets would not fit in a pool slot', () => {
  // 2048-byte slots, 128 headroom, 32 tailroom: 1888 bytes of data, read with one spare byte.
  const pool = new BufferPool({ slotCount: 4 });
  assert.equal(pool.dataCapacity, 1888);
  assert.throws(() => TunDevice.open('fy0', { pool, mtu: 1889 }), { code: 'FERRY_INVALID_ARGUMENT', message: /MTU 1889 .* at most 1888/ });
  // TAP frames carry an Ethernet header and a VLAN tag on top of the MTU; vnet adds 10 bytes.
  assert.throws(() => TunDevice.open('fy0', { pool, tap: true, mtu: 1871 }), { message: /at most 1870/ });
  assert.throws(() => TunDevice.open('fy0', { pool, vnetHdr: true, mtu: 1879 }), { message: /at most 1878/ });
  assert.throws(() => TunDevice.open('fy0', { pool, mtu: 67 }), { message: /MTU 67/ });
  // Without tailroom the spare byte comes out of the data capacity.
  const tight = new BufferPool({ slotCount: 4, slotSize: 1600, headroom: 64, tailroom: 0 });
  assert.throws(() => TunDevice.open('fy0', { pool: tight, mtu: 1536 }), { message: /at most 1535/ });
});
