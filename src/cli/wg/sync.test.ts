import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newDevice, newPeer } from '../../uapi/model.js';
import { syncPeers } from './sync.js';

const k = (n: number) => new Uint8Array(32).fill(n);

function device(keys: number[]) {
  const d = newDevice();
  d.replacePeers = true;
  for (const n of keys) d.peers.push(newPeer(k(n)));
  return d;
}

test('syncconf removes only the running peers missing from the file, in wg’s order', () => {
  const file = device([5, 2, 9]);
  const runtime = device([1, 2, 3, 7, 9]);
  runtime.peers[1].presharedKey = k(0xaa);
  runtime.peers[1].persistentKeepaliveInterval = 25;
  syncPeers(file, runtime);
  assert.equal(file.replacePeers, false);
  // Removals are prepended while walking the sorted list: highest key first.
  assert.deepEqual(
    file.peers.map((p) => [p.publicKey[0], p.remove]),
    [
      [7, true],
      [3, true],
      [1, true],
      [5, false],
      [2, false],
      [9, false],
    ],
  );
  // 1.0.20210914 leaves a kept peer's preshared key and keepalive as the file says (unset).
  assert.equal(file.peers[4].presharedKey, undefined);
  assert.equal(file.peers[4].persistentKeepaliveInterval, undefined);
});

test('syncconf with no peers in the file, or none running, replaces everything', () => {
  const empty = device([]);
  syncPeers(empty, device([1, 2]));
  assert.equal(empty.replacePeers, true);
  assert.equal(empty.peers.length, 0);
  const file = device([1]);
  syncPeers(file, device([]));
  assert.equal(file.replacePeers, true);
  assert.equal(file.peers.length, 1);
});

test('keys compare as bytes (memcmp), not as text', () => {
  const file = device([]);
  file.peers.push(newPeer(k(0x10)));
  const runtime = device([]);
  const a = new Uint8Array(32).fill(0x80);
  const b = new Uint8Array(32).fill(0x7f);
  runtime.peers.push(newPeer(a), newPeer(b), newPeer(k(0x10)));
  syncPeers(file, runtime);
  assert.deepEqual(
    file.peers.map((p) => p.publicKey[0]),
    [0x80, 0x7f, 0x10],
  );
});
