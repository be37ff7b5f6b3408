import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, formatRate, renderTop, type TopSample } from './top-view.js';

function sample(over: { read: number; written: number; drops: Record<string, number>; peers: [string, number, number, number][]; vxlan?: Record<string, unknown> }): TopSample {
  const total = Object.values(over.drops).reduce((a, b) => a + b, 0);
  return {
    status: { interface: 'wg0', kind: 'wireguard+vxlan', publicKey: 'x', listenPort: 51820, mtu: 1420, up: true, peers: over.peers.length, routes: 3, uptimeSeconds: 3725, pid: 42, ...(over.vxlan ? { vxlan: over.vxlan } : {}) },
    stats: { tun: { read: over.read, written: over.written }, pool: { slots: 4096, inUse: 7 }, drops: total },
    drops: { total: over.drops },
    peers: over.peers.map(([key, rx, tx, hs]) => ({ publicKey: key, endpoint: '192.0.2.2:51820', allowedIps: ['10.0.0.2/32'], rxBytes: rx, txBytes: tx, latestHandshake: hs, drops: 0 })),
  };
}

test('a frame: rates from two samples, busiest peer first, hosted planes, moving drops first', () => {
  const prev = sample({ read: 1000, written: 500, drops: { no_route: 10, wg_decrypt_failed: 4 }, peers: [['AAAAAAAAquiet', 100, 100, 1000], ['BBBBBBBBbusy', 0, 0, 1990]], vxlan: { vni: 1, peers: 2, stats: { x: 1 } } });
  const now = sample({ read: 3000, written: 1500, drops: { no_route: 10, wg_decrypt_failed: 8 }, peers: [['AAAAAAAAquiet', 100, 100, 1000], ['BBBBBBBBbusy', 2 * 1024 * 1024, 2048, 1990]], vxlan: { vni: 1, peers: 2, stats: { x: 1 } } });
  const frame = renderTop(prev, now, 2, 2000);
  const lines = frame.trimEnd().split('\n');
  assert.equal(lines[0], 'ferry top: wg0 (wireguard+vxlan)  up 1h02m  mtu 1420  pool 7/4096  pid 42');
  assert.equal(lines[1], 'tun: from host 1000/s, to host 500/s; dropped 2/s (18 in all)');
  assert.match(frame, /^wireguard: 2 peers, port 51820$/m);
  const peers = lines.filter((l) => /^ {2}(AAAAAAAA|BBBBBBBB) /.test(l));
  assert.match(peers[0], /^ {2}BBBBBBBB +192\.0\.2\.2:51820 +10s ago +1\.0 MiB\/s +1\.0 KiB\/s +0$/, 'the busy peer first, with its rates');
  assert.match(peers[1], /^ {2}AAAAAAAA .* 17m ago +0 B\/s +0 B\/s +0$/);
  assert.match(frame, /^vxlan: vni 1, peers 2$/m, 'a hosted plane on one line, nested objects left out');
  const drops = lines.slice(lines.findIndex((l) => l.includes('DROP REASON')) + 1);
  assert.match(drops[0], /^ {2}wg_decrypt_failed +2\/s +8$/, 'the moving reason first');
  assert.match(drops[1], /^ {2}no_route +0\/s +10$/);
});

test('a frame with no drops and no peers says so', () => {
  const s = sample({ read: 0, written: 0, drops: {}, peers: [] });
  s.status.publicKey = null;
  const frame = renderTop(s, s, 1, 0);
  assert.match(frame, /^drops: none$/m);
  assert.doesNotMatch(frame, /wireguard:/);
});

test('rates and ages are short and readable', () => {
  assert.equal(formatRate(0, 'B'), '0 B/s');
  assert.equal(formatRate(1536, 'B'), '1.5 KiB/s');
  assert.equal(formatRate(123_456, 'pkt'), '123.5k/s');
  assert.equal(formatAge(5), '5s ago');
  assert.equal(formatAge(600), '10m ago');
  assert.equal(formatAge(10_800), '3h ago');
});
