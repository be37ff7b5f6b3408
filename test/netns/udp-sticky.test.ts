/**
 * Sticky source address across a veth: ferry's namespace has two addresses per family
 * on its end; a peer (plain kernel sockets in the other namespace) sends to the one the
 * kernel would NOT pick as a reply's source, and the reply must come from it, seen by
 * the peer's own socket. Then the address goes away while ferry still remembers it:
 * the send from it is refused, the memory is dropped, and the datagram still arrives
 * from the remaining address.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { netns, requireHost, vethPair, type Netns } from '../support/netns.js';
import { nextJson, startHelper, type Helper } from './helpers/child.js';

interface Host {
  ferry: Netns;
  dev: string;
  echo: Helper;
  peer: Helper;
  port: number;
}

/** ferry's namespace: 10.78.N.1 (primary) and .11 on one veth, fd78:aN::1 and ::11; the peer .2 / ::2. */
async function twoAddressHost(t: TestContext, net: number): Promise<Host> {
  const ferry = netns(t, 'fyst');
  const peerNs = netns(t, 'fysp');
  const { a, b } = vethPair(ferry, `10.78.${net}.1/24`, peerNs, `10.78.${net}.2/24`);
  ferry.run('ip', ['addr', 'add', `10.78.${net}.11/24`, 'dev', a]);
  ferry.run('ip', ['-6', 'addr', 'add', `fd78:a${net}::1/64`, 'dev', a, 'nodad']);
  ferry.run('ip', ['-6', 'addr', 'add', `fd78:a${net}::11/64`, 'dev', a, 'nodad']);
  peerNs.run('ip', ['-6', 'addr', 'add', `fd78:a${net}::2/64`, 'dev', b, 'nodad']);
  const echo = startHelper(ferry, 'udp-echo.ts', []);
  const { port } = await nextJson(echo, 'echo', 15_000);
  assert.equal(typeof port, 'number');
  const peer = startHelper(peerNs, 'udp-peer.ts', [], 'pipe');
  return { ferry, dev: a, echo, peer, port: port as number };
}

/** The source the kernel picks in ferry's namespace for a reply to `to` (ip route get). */
function defaultSource(ns: Netns, to: string): string {
  const out = ns.run('ip', [to.includes(':') ? '-6' : '-4', 'route', 'get', to]);
  const m = / src (\S+)/.exec(out);
  assert.ok(m, `no src in: ${out}`);
  return m[1];
}

/** The peer sends payload to address and reports where the reply came from; ferry's echo reports what it saw. */
async function exchange(h: Host, address: string, payload: string, echoes = true) {
  h.peer.child.stdin!.write(`${address} ${h.port} ${payload}\n`);
  const seen = echoes ? await nextJson(h.echo, `echo of ${payload}`, 5000) : null;
  const reply = await nextJson(h.peer, `reply to ${payload}`, 5000);
  return { seen, reply };
}

test('a peer that reached ferry on its second address gets replies from that address (IPv4 and IPv6)', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  const h = await twoAddressHost(t, 0);
  const families: Array<[string, string[]]> = [
    ['10.78.0.2', ['10.78.0.1', '10.78.0.11']],
    ['fd78:a0::2', ['fd78:a0::1', 'fd78:a0::11']],
  ];
  for (const [peerAddr, mine] of families) {
    const usual = defaultSource(h.ferry, peerAddr);
    assert.ok(mine.includes(usual), `the kernel's source for ${peerAddr} is ${usual}`);
    const other = mine.find((x) => x !== usual)!;
    for (const target of [other, usual]) {
      const { seen, reply } = await exchange(h, target, `ping-${target}`);
      assert.equal((seen!.local as { address: string }).address, target, 'ferry saw the address it was reached on');
      assert.equal(seen!.sourceResets, 0);
      assert.equal(reply.payload, `ping-${target}`);
      assert.equal(reply.from, target, `the reply to ${target} came from ${reply.from as string}`);
      assert.equal(reply.port, h.port);
    }
  }
});

test('when the remembered address goes away, the reply is sent without it and the memory is dropped', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  const h = await twoAddressHost(t, 1);
  const usual = defaultSource(h.ferry, '10.78.1.2');
  const other = usual === '10.78.1.1' ? '10.78.1.11' : '10.78.1.1';
  const held = await exchange(h, other, 'hold');
  assert.equal(held.reply.from, other);
  assert.deepEqual((held.seen!.local as { address: string }).address, other);
  h.ferry.run('ip', ['addr', 'del', `${other}/24`, 'dev', h.dev]);
  const replay = await exchange(h, usual, 'replay');
  assert.equal(replay.seen!.sent, 1, 'the datagram was sent');
  assert.equal(replay.seen!.result, 0);
  assert.equal(replay.seen!.sourceResets, 1, 'the kernel refused the remembered source once');
  assert.equal(replay.seen!.heldLocal, null, 'the remembered source was cleared in the record');
  assert.equal(replay.reply.payload, 'replayed');
  assert.equal(replay.reply.from, usual, 'it arrived from the address still there');
});
