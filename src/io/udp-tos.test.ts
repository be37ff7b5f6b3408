/**
 * recvTos: the receive calls report each datagram's TOS (IPv4) or traffic class (IPv6) in
 * byte 1 of its endpoint record, on the plain and the GRO path, for IPv4 datagrams on a
 * dual-stack socket too (the sender is python3, which can set IP_TOS and IPV6_TCLASS);
 * and a send carries byte 1 as the datagram's TOS, on the plain and the GSO path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool } from '../buffer/pool.js';
import { requireTools } from '../../test/support/netns.js';
import { ENDPOINT_STRIDE, encodeEndpoint } from './endpoint.js';
import { UdpSocket } from './udp.js';

/** Sends one datagram per TOS value to address:port with python3. */
function sendWithTos(address: string, port: number, tosValues: number[]): void {
  const v6 = address.includes(':');
  const script = [
    'import socket, sys',
    `s = socket.socket(socket.AF_INET6 if ${v6 ? 'True' : 'False'} else socket.AF_INET, socket.SOCK_DGRAM)`,
    'for t in sys.argv[3:]:',
    `    s.setsockopt(${v6 ? 'socket.IPPROTO_IPV6, socket.IPV6_TCLASS' : 'socket.IPPROTO_IP, socket.IP_TOS'}, int(t))`,
    '    s.sendto(b"tos" + bytes([int(t)]), (sys.argv[1], int(sys.argv[2])))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, address, String(port), ...tosValues.map(String)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function receiveTos(sock: UdpSocket, pool: BufferPool, want: number): Promise<number[]> {
  const batch = new PacketBatch(16);
  const until = Date.now() + 3000;
  while (batch.count < want && Date.now() < until) {
    sock.recvBatch(batch);
    if (batch.count < want) await new Promise((r) => setTimeout(r, 10));
  }
  const out: number[] = [];
  for (let i = 0; i < batch.count; i++) {
    assert.equal(pool.slab[batch.offsets[i] + 3], batch.endpoints[i * ENDPOINT_STRIDE + 1], 'the TOS the datagram was sent with');
    out.push(batch.endpoints[i * ENDPOINT_STRIDE + 1]);
  }
  pool.releaseMany(batch.slots, batch.count);
  return out;
}

for (const gro of [false, true]) {
  test(`recvTos reports the outer TOS / traffic class in byte 1 of the endpoint (${gro ? 'GRO' : 'plain'} receive)`, async (t) => {
    if (!requireTools(t, ['python3'])) return;
    const pool = new BufferPool({ slotCount: 256 });
    const cases: Array<[4 | 6, string, string]> = [
      [4, '127.0.0.1', '127.0.0.1'],
      [6, '::1', '::1'],
      [6, '::', '127.0.0.1'], // an IPv4 datagram on a dual-stack socket
    ];
    for (const [family, bind, to] of cases) {
      const sock = UdpSocket.open({ pool, family, address: bind, recvTos: true, gro });
      sendWithTos(to, sock.localPort, [0x00, 0x01, 0x02, 0x03, 0xb8 | 0x03]);
      assert.deepEqual(await receiveTos(sock, pool, 5), [0x00, 0x01, 0x02, 0x03, 0xbb], `${bind} ← ${to}`);
      sock.close();
    }
    const plain = UdpSocket.open({ pool, family: 4, address: '127.0.0.1', gro });
    sendWithTos('127.0.0.1', plain.localPort, [0x03]);
    const batch = new PacketBatch(4);
    const until = Date.now() + 3000;
    while (batch.count === 0 && Date.now() < until) {
      plain.recvBatch(batch);
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(batch.count, 1);
    assert.equal(batch.endpoints[1], 0, 'without recvTos, byte 1 stays 0');
    pool.releaseMany(batch.slots, batch.count);
    plain.close();
    pool.assertNoLeaks();
  });
}

for (const gso of [false, true]) {
  test(`byte 1 of a send's endpoint record is the datagram's TOS / traffic class (${gso ? 'GSO' : 'plain'} send)`, async () => {
    const pool = new BufferPool({ slotCount: 256 });
    for (const [family, address] of [[4, '127.0.0.1'], [6, '::1']] as const) {
      const rx = UdpSocket.open({ pool, family, address, recvTos: true });
      const tx = UdpSocket.open({ pool, family, address, gso });
      const out = new PacketBatch(8);
      // Two runs of equal sizes (GSO material), the TOS changing between and inside them.
      const tos = [0x02, 0x02, 0x02, 0x00, 0x01, 0x01, 0xbb, 0xbb];
      for (let i = 0; i < tos.length; i++) {
        const slot = pool.acquire();
        const off = pool.dataOffset(slot);
        pool.slab.fill(0, off, off + 100);
        pool.slab[off + 3] = tos[i];
        out.push(slot, off, 100);
        encodeEndpoint({ family, address, port: rx.localPort }, out.endpoints, i * ENDPOINT_STRIDE);
        out.endpoints[i * ENDPOINT_STRIDE + 1] = tos[i];
      }
      assert.equal(tx.sendBatch(out), tos.length);
      pool.releaseMany(out.slots, out.count);
      assert.deepEqual(await receiveTos(rx, pool, tos.length), tos, `IPv${family}`);
      rx.close();
      tx.close();
    }
    pool.assertNoLeaks();
  });
}
