import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason } from '../stats/drop-reasons.js';
import { innerPacketLength } from './receive.js';
import { calculatePaddingSize } from './send.js';

test('padding follows wireguard-go calculatePaddingSize', () => {
  const cases: Array<[number, number, number]> = [
    // [size, mtu, padding]
    [0, 1420, 0],
    [1, 1420, 15],
    [16, 1420, 0],
    [17, 1420, 15],
    [1400, 1420, 8],
    [1408, 1420, 0],
    [1409, 1420, 11], // 1424 would pass the MTU: pad only to 1420
    [1410, 1420, 10], // 1424 would pass the MTU: pad only to 1420
    [1420, 1420, 0],
    [1421, 1420, 15], // larger than the MTU: 1421 % 1420 = 1
    [17, 0, 15], // no MTU: plain multiple of 16
    [1500, 0, 4],
  ];
  for (const [size, mtu, pad] of cases) assert.equal(calculatePaddingSize(size, mtu), pad, `size ${size}, mtu ${mtu}`);
});

test('inner packet length: the IP header decides; bad headers give a drop reason', () => {
  const v4 = new Uint8Array(48);
  v4[0] = 0x45;
  v4[3] = 40;
  assert.equal(innerPacketLength(v4, 0, 48), 40, 'padding stripped');
  v4[3] = 49;
  assert.equal(innerPacketLength(v4, 0, 48), -DropReason.BadTotalLength);
  v4[3] = 19;
  assert.equal(innerPacketLength(v4, 0, 48), -DropReason.BadTotalLength);
  assert.equal(innerPacketLength(v4, 0, 19), -DropReason.Truncated);
  const v6 = new Uint8Array(64);
  v6[0] = 0x60;
  v6[5] = 8;
  assert.equal(innerPacketLength(v6, 0, 64), 48);
  v6[5] = 25;
  assert.equal(innerPacketLength(v6, 0, 64), -DropReason.BadTotalLength);
  assert.equal(innerPacketLength(v6, 0, 39), -DropReason.Truncated);
  v6[0] = 0x50;
  assert.equal(innerPacketLength(v6, 0, 64), -DropReason.BadVersion);
});
