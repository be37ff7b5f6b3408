/**
 * Capture through two WireGuard datapaths joined by a fake network: every point sees what
 * it should (tun, inner with the peer, outer with rebuilt headers and the peer found by
 * receiver index, drop with the reason), the key log lands in a secrets block ahead of
 * the handshake it opens, filters select, a full ring counts losses without touching the
 * traffic, and the tap detaches when the last capture ends.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { CapturePoint } from '../datapath/capture-tap.js';
import { initCrypto } from '../wireguard/crypto.js';
import { handshakeKeyLog, staticKeyLog } from '../wireguard/key-log.js';
import { formatKeyBase64 } from '../wireguard/keys.js';
import { closeAndCheck, handshake, ipv4Packet, makePair, settle, type Pair } from '../../test/support/wg-device-harness.js';
import { CaptureHub } from './capture-hub.js';
import { captureOptions, type CaptureRequestArgs } from './capture-options.js';
import { CaptureSession } from './capture-session.js';
import { readPcapng, type PcapngContents } from './pcapng-read.js';
import { EPB_INBOUND, EPB_OUTBOUND } from './pcapng.js';
import { wireguardPeerOf } from './attribution.js';

await initCrypto();

function hubOn(p: Pair): CaptureHub {
  const hub = new CaptureHub({
    target: p.a.dp,
    describe: (ref) => (ref === p.a.peer ? formatKeyBase64(p.a.peer.publicKey) : null),
    attribute: (plane, slab, off, len) => (plane === 'wireguard' ? wireguardPeerOf(p.a.dev.indexTable, slab, off, len) : null),
  });
  p.a.dev.keyLog = (peer) => {
    if (hub.wantsSecrets) hub.secrets(handshakeKeyLog(peer.handshake));
  };
  return hub;
}

function start(hub: CaptureHub, args: CaptureRequestArgs = {}, ringBytes?: number): CaptureSession {
  const options = captureOptions(args);
  if (ringBytes !== undefined) options.ringBytes = ringBytes;
  const s = new CaptureSession(options, 'wg-a', hub.describe);
  hub.add(s);
  return s;
}

function drained(s: CaptureSession): PcapngContents {
  const out = new Uint8Array(4 * 1024 * 1024);
  return readPcapng(out.subarray(0, s.drain(out)));
}

const ip = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

test('every point: tun and inner both ways, outer with headers and peer, drops with reasons; keys ahead of their handshake', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const hub = hubOn(p);
  const s = start(hub, { keys: true });
  const peerKey = formatKeyBase64(p.a.peer.publicKey);
  s.secrets(staticKeyLog(p.a.dev.identity!, [p.a.peer.publicKey]), 1);
  assert.equal(p.a.dp.capture, hub);

  const ping = await handshake(p, 'ping from a');
  const pong = ipv4Packet(p.b.v4, p.a.v4, 'pong from b');
  p.b.tun.inject(pong);
  await settle(p);
  assert.deepEqual(p.a.tun.written.at(-1), pong);
  // No route from A's host; from B, a source A does not allow for B.
  p.a.tun.inject(ipv4Packet(p.a.v4, '10.99.0.1', 'nowhere'));
  p.b.tun.inject(ipv4Packet('10.0.0.99', p.a.v4, 'spoofed'));
  await settle(p);

  const c = drained(s);
  assert.deepEqual(c.interfaces.map((i) => i.name), ['tun', 'inner', 'outer', 'drop']);
  assert.match(c.interfaces[2].description, /wg-a outer: UDP datagrams on the wire/);
  const at = (point: number) => c.packets.filter((k) => k.interfaceId === point);
  const tun = at(CapturePoint.Tun);
  assert.deepEqual(tun.find((k) => k.flags === EPB_OUTBOUND)?.data, ping);
  assert.deepEqual(tun.find((k) => k.flags === EPB_INBOUND)?.data, pong);
  const inner = at(CapturePoint.Inner);
  const innerOut = inner.find((k) => k.flags === EPB_OUTBOUND);
  assert.deepEqual(innerOut?.data, ping);
  assert.equal(innerOut?.comment, `plane=wireguard peer=${peerKey}`);
  assert.equal(inner.find((k) => k.flags === EPB_INBOUND)?.comment, `plane=wireguard peer=${peerKey}`);
  const outer = at(CapturePoint.Outer);
  const initiation = outer.find((k) => k.flags === EPB_OUTBOUND && k.data[28] === 1);
  assert.ok(initiation !== undefined, 'the handshake initiation leaves at outer');
  assert.equal(initiation.data.length, 20 + 8 + 148);
  assert.equal(ip(initiation.data, 12), '0.0.0.0', 'no local address known yet: the unspecified one');
  assert.equal(ip(initiation.data, 16), '192.0.2.2');
  const transportOut = outer.find((k) => k.flags === EPB_OUTBOUND && k.data[28] === 4);
  assert.equal(transportOut && ip(transportOut.data, 12), '192.0.2.1', 'after the response: the address it arrived on');
  assert.equal((initiation.data[22] << 8) | initiation.data[23], p.b.local.port, 'UDP destination port: the peer endpoint\'s');
  const transportIn = outer.filter((k) => k.flags === EPB_INBOUND && k.data[28] === 4);
  assert.ok(transportIn.length >= 1);
  assert.ok(transportIn.every((k) => k.comment === `plane=wireguard peer=${peerKey}`), 'inbound transport attributed by receiver index');
  const response = outer.find((k) => k.flags === EPB_INBOUND && k.data[28] === 2);
  assert.equal(response?.comment, `plane=wireguard peer=${peerKey}`);
  const drops = at(CapturePoint.Drop);
  assert.deepEqual(drops.map((k) => k.comment).sort(), [`plane=wireguard peer=${peerKey} reason=wg_source_not_allowed`, 'reason=no_route']);
  assert.equal(ip(drops.find((k) => k.comment.includes('source'))!.data, 12), '10.0.0.99');
  // Secrets: the static ones first, then one block per handshake, before its initiation.
  assert.equal(c.secrets.length, 2);
  assert.match(new TextDecoder().decode(c.secrets[0].data), /^LOCAL_STATIC_PRIVATE_KEY = [A-Za-z0-9+/]{43}=\nREMOTE_STATIC_PUBLIC_KEY = /);
  const hs = new TextDecoder().decode(c.secrets[1].data);
  assert.match(hs, /^LOCAL_STATIC_PRIVATE_KEY = .+\nREMOTE_STATIC_PUBLIC_KEY = .+\nLOCAL_EPHEMERAL_PRIVATE_KEY = .+\nPRESHARED_KEY = A{43}=\n$/);
  const blockOf = (k: number): number => {
    let n = -1;
    return c.order.findIndex((kind) => kind === 'epb' && ++n === k);
  };
  const dsbAt = c.order.lastIndexOf('dsb');
  const initiationAt = blockOf(c.packets.indexOf(initiation));
  assert.ok(dsbAt < initiationAt, `secrets (block ${dsbAt}) before the initiation (block ${initiationAt})`);
  assert.equal(s.lost, 0);
  hub.remove(s);
  assert.equal(p.a.dp.capture, null, 'the tap is gone with the last capture');
});

test('filters: point, peer, expression; a capture without --keys gets no secrets', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const hub = hubOn(p);
  const drops = start(hub, { points: 'drop' });
  const icmpOnly = start(hub, { points: 'tun,inner', filter: 'host 10.99.0.1' });
  const otherPeer = start(hub, { peer: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=' });
  const outerUdp = start(hub, { points: 'outer', filter: `udp and dst port ${p.b.local.port}` });
  await handshake(p);
  p.a.tun.inject(ipv4Packet(p.a.v4, '10.99.0.1', 'nowhere'));
  await settle(p);
  const d = drained(drops);
  assert.deepEqual(d.packets.map((k) => k.comment), ['reason=no_route']);
  assert.equal(d.secrets.length, 0);
  assert.deepEqual(drained(icmpOnly).packets.map((k) => k.interfaceId), [CapturePoint.Tun], 'only the packet to 10.99.0.1, seen at tun');
  assert.equal(drained(otherPeer).packets.length, 0);
  const o = drained(outerUdp);
  assert.ok(o.packets.length >= 2 && o.packets.every((k) => k.flags === EPB_OUTBOUND && k.interfaceId === CapturePoint.Outer));
});

test('a full ring loses packets (counted), the traffic does not notice; a count ends the capture', async (t) => {
  const p = makePair();
  t.after(() => closeAndCheck(p));
  const hub = hubOn(p);
  const tiny = start(hub, {}, 2048);
  const counted = start(hub, { count: 3 });
  await handshake(p);
  const sent: Uint8Array[] = [];
  for (let i = 0; i < 40; i++) {
    const pkt = ipv4Packet(p.a.v4, p.b.v4, `packet ${i} ${'x'.repeat(200)}`);
    sent.push(pkt);
    p.a.tun.inject(pkt);
  }
  await settle(p);
  assert.deepEqual(p.b.tun.written.slice(-40), sent, 'every packet arrived');
  assert.ok(tiny.lost > 0, `lost ${tiny.lost}`);
  assert.equal(tiny.captured + tiny.lost, counted.captured + counted.lost);
  const c = drained(counted);
  assert.equal(c.packets.length, 3);
  assert.ok(counted.complete);
});
