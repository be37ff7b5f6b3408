/**
 * zeroChecksum6: an IPv6 socket accepts datagrams whose UDP checksum is zero (a tunnel
 * peer with UDP_NO_CHECK6_TX, as Linux's vxlan udp6zerocsumtx); without it the kernel
 * drops them. The zero-checksum sender is python3 (UDP_NO_CHECK6_TX).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PacketBatch } from '../buffer/batch.js';
import { BufferPool } from '../buffer/pool.js';
import { requireTools } from '../../test/support/netns.js';
import { UdpSocket } from './udp.js';

const UDP_NO_CHECK6_TX = 101;

function sendZeroChecksum(port: number, count: number): void {
  const script = [
    'import socket, sys',
    's = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
    `s.setsockopt(socket.SOL_UDP, ${UDP_NO_CHECK6_TX}, 1)`,
    'for i in range(int(sys.argv[2])): s.sendto(b"zero-checksum", ("::1", int(sys.argv[1])))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script, String(port), String(count)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function drain(sock: UdpSocket, pool: BufferPool, ms: number): Promise<number> {
  const batch = new PacketBatch(16);
  const until = Date.now() + ms;
  let n = 0;
  while (Date.now() < until) {
    n += sock.recvBatch(batch);
    pool.releaseMany(batch.slots, batch.count);
    batch.clear();
    await new Promise((r) => setTimeout(r, 10));
  }
  return n;
}

test('an IPv6 socket with zeroChecksum6 takes zero-checksum datagrams; one without does not', async (t) => {
  if (!requireTools(t, ['python3'])) return;
  const pool = new BufferPool({ slotCount: 256 });
  const open = UdpSocket.open({ pool, family: 6, address: '::1', zeroChecksum6: true });
  const strict = UdpSocket.open({ pool, family: 6, address: '::1' });
  sendZeroChecksum(open.localPort, 3);
  sendZeroChecksum(strict.localPort, 3);
  assert.equal(await drain(open, pool, 300), 3);
  assert.equal(await drain(strict, pool, 300), 0, 'the kernel drops them by default');
  open.close();
  strict.close();
  assert.throws(() => UdpSocket.open({ pool, family: 4, address: '127.0.0.1', zeroChecksum6: true }), /family 6 only/);
  pool.assertNoLeaks();
});
