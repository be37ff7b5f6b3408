/**
 * The WireGuard plane's per-packet code must allocate nothing. As in src/packet/no-alloc.test.ts,
 * this reads the source rather than measuring the heap (which V8 makes flaky; bench/datapath.ts
 * counts collections at run time): every function and method of the hot files, constructors and
 * the named exemptions aside, must be free of constructs that create objects. Every source file
 * of the folder is named here, hot or not, so a new file is classified when it is added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodies, FORBIDDEN, scanFolder, stripComments } from '../../test/support/no-alloc-scan.js';

test('hot-path functions and methods allocate nothing', () => {
  const r = scanFolder({
    folder: 'src/wireguard',
    files: [
      { file: 'send.ts' },
      { file: 'receive.ts' },
      { file: 'staged-queue.ts' },
      { file: 'handshake-queue.ts' },
      { file: 'timers.ts' },
      { file: 'messages.ts' },
      { file: 'replay.ts' },
      { file: 'index-table.ts' },
      { file: 'ratelimiter.ts' },
      { file: 'cookie-reply-limiter.ts' },
      { file: 'tai64n.ts' },
      { file: 'batch-aead.ts' },
      { file: 'constants.ts' },
      { file: 'datapath-context.ts' },
      { file: 'device-options.ts' },
      { file: 'allowed-ips.ts' },
      { file: 'keypair.ts', exempt: { install: 'control: once per handshake', clear: 'control: when keys are dropped' } },
      { file: 'key-table.ts', exempt: { grow: 'control: a handshake that finds the table full doubles it' } },
      // The Plane methods the datapath calls per batch.
      { file: 'device.ts', hot: ['encapsulate', 'decapsulate', 'prepare', 'sent', 'poll', 'tick'] },
      // The hooks the per-packet code calls.
      { file: 'device-core.ts', hot: ['dropFor', 'jitter', 'isUnderLoad', 'sendKeepalive', 'io', 'mtu'] },
      // hasEndpoint is read per packet; countDrop makes the peer's counters on its first drop, once per peer.
      { file: 'peer.ts', hot: ['hasEndpoint', 'countDrop'], exempt: { countDrop: 'allocates once per peer, on its first drop' } },
    ],
    notHot: {
      'cookie.ts': 'handshake path: MACs and cookie replies, once per handshake message',
      'crypto.ts': 'handshake path: BLAKE2s, X25519 and the AEADs of the Noise handshake',
      'handshake-path.ts': 'handshake path: one call per handshake message, within a budget',
      'noise.ts': 'handshake path: the Noise_IKpsk2 messages',
      'handshake.ts': 'handshake path: the state a handshake keeps between its messages',
      'key-log.ts': 'handshake path: the key log lines, once per handshake and only when a capture or FERRY_KEYLOG_FILE asked',
      'keys.ts': 'configuration: key generation and text forms',
      'device-config.ts': 'configuration: what UAPI sets (keys, ports, peers, allowed IPs)',
    },
    classifyAll: true,
  });
  assert.deepEqual(r.stale, []);
  assert.deepEqual(r.problems, []);
  for (const f of ['send.ts queueTransport', 'receive.ts receiveUdpBatch', 'replay.ts validate', 'index-table.ts lookup', 'device.ts encapsulate', 'device.ts tick']) {
    assert.ok(r.scanned.includes(f), `${f} was scanned`);
  }
  assert.ok(r.scanned.length >= 80, `scanned ${r.scanned.length} functions`);
});

test('the scanner finds what it is meant to find', () => {
  const sample = stripComments(`
export function bad(a: number): number {
  const x = [a];
  return x.length;
}
class C {
  ok(a: number): number {
    return a + 1;
  }
  private worse(): void {
    queueMicrotask(() => undefined);
  }
}`);
  const found = bodies(sample).map(({ name, body }) => [name, FORBIDDEN.filter(([re]) => re.test(body)).map(([, w]) => w)]);
  assert.deepEqual(found, [
    ['bad', ['array literal']],
    ['ok', []],
    ['worse', ['closure']],
  ]);
});
