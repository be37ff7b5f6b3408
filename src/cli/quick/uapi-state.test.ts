import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGet, type DeviceState } from '../../control/uapi-protocol.js';
import { parseGetAnswer } from './uapi-state.js';
import { parsePrefix } from '../../text/prefix.js';

test('parseGetAnswer reads back what formatGet writes', () => {
  const state: DeviceState = {
    privateKey: new Uint8Array(32).fill(1),
    listenPort: 51820,
    fwmark: 51820,
    peers: [
      { publicKey: new Uint8Array(32).fill(2), presharedKey: new Uint8Array(32).fill(3), endpoint: '192.0.2.1:51820', lastHandshakeTimeMs: 1_700_000_000_123, txBytes: 10, rxBytes: 20, persistentKeepaliveInterval: 25, allowedIps: [parsePrefix('10.0.0.0/24'), parsePrefix('fd00::/64')] },
      { publicKey: new Uint8Array(32).fill(4), presharedKey: null, endpoint: '[fd00::9]:1', lastHandshakeTimeMs: 0, txBytes: 0, rxBytes: 0, persistentKeepaliveInterval: 0, allowedIps: [] },
    ],
  };
  assert.deepEqual(parseGetAnswer(formatGet(state).trimEnd().split('\n')), state);
});

test('parseGetAnswer: an empty device, unknown keys skipped', () => {
  assert.deepEqual(parseGetAnswer([]), { privateKey: null, listenPort: 0, fwmark: 0, peers: [] });
  assert.deepEqual(parseGetAnswer(['listen_port=5', 'future_key=1']).listenPort, 5);
});
