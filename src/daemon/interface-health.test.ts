import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { initCrypto } from '../wireguard/crypto.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import { closeAndCheck, handshake, ipv4Packet, makePair, settle } from '../../test/support/wg-device-harness.js';
import { wgInterfaceHealth, type HealthSource } from './interface-health.js';

before(() => initCrypto());

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function source(p: ReturnType<typeof makePair>): HealthSource {
  // The fake TUN has no offloads, as a TunDevice opened without them.
  const tun = Object.assign(p.a.tun, { readPackets: 0, writtenPackets: 0, offloads: null });
  return { ifname: 'wg0', device: p.a.dev, pool: p.a.pool, tun, datapath: p.a.dp, hosted: [] } as unknown as HealthSource;
}

test('readiness: link up, device running, a key, a peer, and a completed handshake', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  let flags: number | null = 0x1090; // down
  const health = wgInterfaceHealth(source(p), { flags: () => flags });
  assert.deepEqual(health.isReady(), { ready: false, reasons: ['interface wg0 is down', 'wireguard: no handshake completed yet'] });
  flags = null;
  assert.deepEqual(health.isReady().reasons[0], 'interface wg0 not found');
  flags = 0x1091;
  let changes = 0;
  const off = health.onChange(() => changes++);
  await handshake(p);
  assert.deepEqual(health.isReady(), { ready: true, reasons: [] });
  assert.ok(changes >= 1, 'a handshake is a change');
  off();
  assert.match(health.summary(), /^wg0: wireguard, 1 peer, 1 with a handshake; rx \d+ B, tx \d+ B; 0 dropped$/);
  p.a.dev.removePeer(p.a.peer);
  assert.deepEqual(health.isReady(), { ready: false, reasons: ['wireguard: no peers'] });
});

test('metrics: pool, packets by port and direction, every drop reason, the WireGuard exporter names', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  await handshake(p);
  const text = wgInterfaceHealth(source(p), { flags: () => 0x1091 }).metrics();
  const key = formatKeyBase64(p.a.peer.publicKey);
  assert.match(text, /^# TYPE ferry_pool_slots gauge\nferry_pool_slots\{interface="wg0"\} 1024$/m);
  assert.match(text, /^ferry_pool_in_use\{interface="wg0"\} \d+$/m);
  assert.match(text, /^ferry_pool_large_slots\{interface="wg0"\} 0$/m, 'the harness pool has no large slots');
  assert.match(text, /^ferry_pool_large_exhausted_total\{interface="wg0"\} 0$/m);
  for (const [port, dir] of [['tun', 'rx'], ['tun', 'tx'], ['udp', 'rx'], ['udp', 'tx']]) assert.match(text, new RegExp(`^ferry_packets_total\\{interface="wg0",port="${port}",direction="${dir}"\\} \\d+$`, 'm'));
  assert.match(text, /^ferry_packets_total\{interface="wg0",port="udp",direction="tx"\} [1-9]\d*$/m, 'the handshake went out');
  assert.match(text, /^ferry_drops_total\{interface="wg0",reason="wg_decrypt_failed"\} 0$/m);
  assert.match(text, /^ferry_drops_total\{interface="wg0",reason="lb_conntrack_full"\} 0$/m);
  assert.match(text, /^ferry_ready\{interface="wg0"\} 1$/m);
  // The common WireGuard exporter's names and labels, and what `wg show transfer` reports.
  const peer = `interface="wg0",public_key="${key}",allowed_ips="10.0.0.2/32,fd00::2/128"`;
  assert.match(text, new RegExp(`^wireguard_latest_handshake_seconds\\{${escape(peer)}\\} [1-9]\\d{9}$`, 'm'));
  assert.ok(text.includes(`wireguard_sent_bytes_total{${peer}} ${p.a.peer.txBytes}\n`));
  assert.ok(text.includes(`wireguard_received_bytes_total{${peer}} ${p.a.peer.rxBytes}\n`));
  // Every sample line belongs to a family declared before it.
  const declared = new Set<string>();
  for (const line of text.trimEnd().split('\n')) {
    const type = /^# TYPE (\S+) (counter|gauge)$/.exec(line);
    if (type) declared.add(type[1]);
    else if (!line.startsWith('#')) assert.ok(declared.has(line.split(/[{ ]/)[0]), line);
  }
});

test('metrics: drops by the stage that decided them, and datapath batches', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  await handshake(p);
  p.a.tun.inject(ipv4Packet(p.a.v4, '10.9.9.9', 'nowhere'));
  p.a.tun.inject(ipv4Packet(p.a.v4, '10.9.9.8', 'nowhere'));
  await settle(p);
  const text = wgInterfaceHealth(source(p), { flags: () => 0x1091 }).metrics();
  assert.match(text, /^ferry_plane_drops_total\{interface="wg0",plane="datapath",reason="no_route"\} 2$/m);
  assert.match(text, /^ferry_drops_total\{interface="wg0",reason="no_route"\} 2$/m);
  assert.doesNotMatch(text, /^ferry_plane_drops_total\{[^}]*reason="wg_decrypt_failed"/m, 'reasons that never happened are left out of the finer families');
  assert.match(text, /^ferry_datapath_packets_total\{interface="wg0",direction="read"\} 3$/m);
  assert.match(text, /^ferry_datapath_mtu\{interface="wg0"\} \d+$/m);
  assert.match(text, /^ferry_tun_offload\{interface="wg0"\} 0$/m);
  assert.doesNotMatch(text, /^ferry_tun_offload_packets_total/m, 'the offload counters only with offloads on');
});
