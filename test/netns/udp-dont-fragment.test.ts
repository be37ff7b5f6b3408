/**
 * dontFragment: over a path whose MTU is 1280, a 1400-byte datagram is refused with
 * EMSGSIZE instead of being fragmented, and what fits leaves with DF set; a default
 * socket fragments it. Runs the sockets inside a namespace (a child process there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { netns, requireHost, vethPair } from '../support/netns.js';

const REPO = resolve(import.meta.dirname, '../..');

const SCRIPT = `
import { BufferPool } from ${JSON.stringify(join(REPO, 'src/buffer/pool.ts'))};
import { PacketBatch } from ${JSON.stringify(join(REPO, 'src/buffer/batch.ts'))};
import { encodeEndpoint, ENDPOINT_STRIDE } from ${JSON.stringify(join(REPO, 'src/io/endpoint.ts'))};
import { UdpSocket } from ${JSON.stringify(join(REPO, 'src/io/udp.ts'))};
const pool = new BufferPool({ slotCount: 64 });
const out = {};
for (const dontFragment of [true, false]) {
  const sock = UdpSocket.open({ pool, family: 4, address: '10.205.0.1', dontFragment });
  const batch = new PacketBatch(2);
  for (const size of [1400, 1000]) {
    const slot = pool.acquire();
    const i = batch.push(slot, pool.dataOffset(slot), size);
    encodeEndpoint({ family: 4, address: '10.205.0.2', port: 9 }, batch.endpoints, i * ENDPOINT_STRIDE);
  }
  sock.sendBatch(batch);
  out[String(dontFragment)] = [sock.sendResults[0], sock.sendResults[1]];
  pool.releaseMany(batch.slots, batch.count);
  sock.close();
}
console.log(JSON.stringify(out));
`;

test('dontFragment refuses what exceeds the path MTU (EMSGSIZE) and sets DF; the default fragments', async (t) => {
  if (!requireHost(t, ['nft'])) return;
  const a = netns(t, 'fydfa');
  const b = netns(t, 'fydfb');
  const { a: dev } = vethPair(a, '10.205.0.1/24', b, '10.205.0.2/24');
  a.run('ip', ['link', 'set', dev, 'mtu', '1280']);
  a.run('nft', ['-f', '-'], { input: 'table ip fydf {\n chain out {\n  type filter hook output priority 0;\n  udp dport 9 ip frag-off & 0x4000 == 0x4000 counter\n  udp dport 9 ip frag-off & 0x4000 == 0 counter\n }\n}\n' });
  const out = JSON.parse(a.run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { timeout: 30_000 })) as Record<string, number[]>;
  assert.deepEqual(out.true, [-90, 0], 'EMSGSIZE for 1400 bytes, 1000 bytes sent');
  assert.deepEqual(out.false, [0, 0], 'the default socket sends both (fragmenting the first)');
  const counters = [...a.run('nft', ['list', 'table', 'ip', 'fydf']).matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
  // The output hook sees datagrams before fragmentation: DF on both 1000-byte ones (the
  // default sets DF on what fits), none on the 1400-byte one the default socket fragments.
  assert.deepEqual(counters, [2, 1]);
});
