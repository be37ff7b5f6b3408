/**
 * Native batch calls and caller memory: arrays that share bytes are refused before
 * anything is read or written (a call writes lengths, endpoint records, errors, state or
 * ring records; if those could alias the offsets or lengths it validated, a write could
 * turn a checked offset into one outside the slab). And receive errors that are not the
 * socket's fault are survived and reported, not thrown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { constants } from 'node:os';
import { ENDPOINT_STRIDE, encodeEndpoint } from './endpoint.js';
import { loadNative } from './native.js';

const n = loadNative();
const S = ENDPOINT_STRIDE;

function withSocket(fn: (fd: number) => void): void {
  const fd = n.udpOpen(4, '127.0.0.1', 0);
  try {
    fn(fd);
  } finally {
    n.closeFd(fd);
  }
}

/** Every array of a batch call, made so that the two named ones share bytes. */
function arrays(overlap: [string, string]) {
  const shared = new ArrayBuffer(1 << 16);
  const own = () => new ArrayBuffer(1 << 16);
  const buf = (name: string) => (overlap.includes(name) ? shared : own());
  // The two overlapping arrays start 8 bytes apart in one buffer.
  const at = (name: string) => (overlap[1] === name ? 8 : 0);
  const slab = new Uint8Array(buf('slab'), at('slab'), 8192);
  const offsets = new Int32Array(buf('offsets'), at('offsets'), 4);
  const lengths = new Int32Array(buf('lengths'), at('lengths'), 4);
  const endpoints = new Uint8Array(buf('endpoints'), at('endpoints'), 4 * S);
  const errors = new Int32Array(buf('errors'), at('errors'), 4);
  const state = new Int32Array(buf('state'), at('state'), n.UDP_GSO_STATE_LENGTH);
  const status = new Int32Array(buf('status'), at('status'), n.IO_STATUS_LENGTH);
  const iovOffsets = new Int32Array(buf('iovOffsets'), at('iovOffsets'), 4);
  const iovLengths = new Int32Array(buf('iovLengths'), at('iovLengths'), 4);
  const groupIovStart = new Int32Array(buf('groupIovStart'), at('groupIovStart'), 4);
  const groupIovCount = new Int32Array(buf('groupIovCount'), at('groupIovCount'), 4);
  const results = new Int32Array(buf('results'), at('results'), 4);
  const ring = new Uint8Array(n.UDP_GRO_RING_BYTES);
  // With the ring in the pair, the slab is the ring's first 8 KiB.
  return { slab: overlap.includes('ring') ? new Uint8Array(ring.buffer, 0, 8192) : slab, offsets, lengths, endpoints, errors, state, status, ring, iovOffsets, iovLengths, groupIovStart, groupIovCount, results };
}

type Arrays = ReturnType<typeof arrays>;

/** Fills the arrays with a valid batch (4 one-byte datagrams to 127.0.0.1:9) and returns a copy of every byte. */
function prime(a: Arrays): Uint8Array[] {
  for (let i = 0; i < 4; i++) {
    a.offsets[i] = 1024 + i * 1024;
    a.lengths[i] = 1;
  }
  // tunWritevBatch: two groups of two one-byte iovecs.
  for (let i = 0; i < 4; i++) {
    a.iovOffsets[i] = 1024 + i * 1024;
    a.iovLengths[i] = 1;
  }
  a.groupIovStart.set([0, 2]);
  a.groupIovCount.set([2, 2]);
  if (a.endpoints.length >= 4 * S) for (let i = 0; i < 4; i++) encodeEndpoint({ family: 4, address: '127.0.0.1', port: 9 }, a.endpoints, i * S);
  return all(a).map((x) => new Uint8Array(x.buffer.slice(0)));
}

function all(a: Arrays) {
  return [a.slab, a.offsets, a.lengths, a.endpoints, a.errors, a.state, a.status, a.iovOffsets, a.iovLengths, a.groupIovStart, a.groupIovCount, a.results];
}

function unchanged(a: Arrays, before: Uint8Array[], what: string): void {
  const after = all(a).map((x) => new Uint8Array(x.buffer));
  for (let k = 0; k < after.length; k++) assert.deepEqual(after[k], before[k], `${what}: nothing written`);
}

const calls: Record<string, { arrays: string[]; call: (fd: number, a: Arrays) => unknown }> = {
  tunReadBatch: { arrays: ['slab', 'offsets', 'lengths', 'status'], call: (fd, a) => n.tunReadBatch(fd, a.slab, a.offsets, a.lengths, 64, 4, a.status) },
  tunWriteBatch: { arrays: ['slab', 'offsets', 'lengths', 'errors'], call: (fd, a) => n.tunWriteBatch(fd, a.slab, a.offsets, a.lengths, 4, a.errors) },
  tunWritevBatch: {
    arrays: ['slab', 'iovOffsets', 'iovLengths', 'groupIovStart', 'groupIovCount', 'results'],
    call: (fd, a) => n.tunWritevBatch(fd, a.slab, a.iovOffsets, a.iovLengths, a.groupIovStart, a.groupIovCount, 2, a.results),
  },
  udpRecvBatch: {
    arrays: ['slab', 'offsets', 'lengths', 'endpoints', 'status'],
    call: (fd, a) => n.udpRecvBatch(fd, a.slab, a.offsets, a.lengths, a.endpoints, 64, 4, a.status),
  },
  udpRecvBatchGro: {
    arrays: ['slab', 'offsets', 'lengths', 'endpoints', 'status', 'ring'],
    call: (fd, a) => n.udpRecvBatchGro(fd, a.slab, a.offsets, a.lengths, a.endpoints, 64, 4, a.ring, a.status),
  },
  udpSendBatch: {
    arrays: ['slab', 'offsets', 'lengths', 'endpoints', 'errors'],
    call: (fd, a) => n.udpSendBatch(fd, a.slab, a.offsets, a.lengths, a.endpoints, 4, a.errors),
  },
  udpSendBatchGso: {
    arrays: ['slab', 'offsets', 'lengths', 'endpoints', 'errors', 'state'],
    call: (fd, a) => n.udpSendBatchGso(fd, a.slab, a.offsets, a.lengths, a.endpoints, 4, a.errors, a.state),
  },
};

test('every native batch call refuses two arrays that share bytes, naming them, before touching anything', () => {
  let cases = 0;
  withSocket((fd) => {
    for (const [fn, { arrays: names, call }] of Object.entries(calls)) {
      for (let i = 0; i < names.length; i++) {
        for (let j = i + 1; j < names.length; j++) {
          const pair: [string, string] = [names[i], names[j]];
          // The ring is tested against the slab (the only array big enough to hold one).
          if (pair.includes('ring') && !pair.includes('slab')) continue;
          const a = arrays(pair);
          const before = prime(a);
          assert.throws(() => call(fd, a), (e: Error) => {
            assert.equal(e.name, 'RangeError', `${fn} ${pair}: ${e.message}`);
            assert.match(e.message, new RegExp(`^${fn}: \\w+ and \\w+ share memory`));
            assert.ok(e.message.includes(pair[0]) && e.message.includes(pair[1]), `${fn}: "${e.message}" names ${pair}`);
            return true;
          });
          unchanged(a, before, `${fn} ${pair}`);
          cases++;
        }
      }
      // The same call with arrays of their own goes through.
      const ok = arrays(['none', 'none2']);
      prime(ok);
      if (fn !== 'tunReadBatch' && fn !== 'tunWriteBatch') assert.doesNotThrow(() => call(fd, ok), fn);
    }
  });
  assert.ok(cases >= 40, `pairs tried: ${cases}`);
});

test('endpoints inside the slab, or lengths over the offsets, are refused for the exact aliasing a caller could make', () => {
  withSocket((fd) => {
    const slab = Buffer.alloc(1 << 16);
    const offsets = new Int32Array([0, 2048]);
    const lengths = new Int32Array(2);
    // The endpoint records in the slab, where the datagram would land.
    assert.throws(() => n.udpRecvBatch(fd, slab, offsets, lengths, slab.subarray(0, 2 * S), 64, 2), /slab and endpoints share memory/);
    // lengths as a view over the offsets' own buffer: writing a length would move an offset.
    const both = new Int32Array(4);
    assert.throws(() => n.udpRecvBatch(fd, slab, both.subarray(0, 2), both.subarray(1, 3), new Uint8Array(2 * S), 64, 2), /offsets and lengths share memory/);
    // Offsets inside the slab.
    const inSlab = new Int32Array(slab.buffer, slab.byteOffset + 4096, 2);
    assert.throws(() => n.tunWriteBatch(fd, slab, inSlab, lengths, 2), /slab and offsets share memory/);
  });
});

test('tunWritevBatch refuses a group outside the iovec arrays, an iovec outside the slab, and a short results array, before writing', () => {
  withSocket((fd) => {
    const slab = new Uint8Array(8192);
    const offs = new Int32Array([0, 100, 200, 300]);
    const lens = new Int32Array([10, 10, 10, 10]);
    const results = new Int32Array(4).fill(7);
    const bad: [string, number[], number[], RegExp][] = [
      ['past the end', [2], [3], /group 0 \(iovecs 2 \+ 3\) lies outside/],
      ['empty group', [0], [0], /group 0 \(iovecs 0 \+ 0\)/],
      ['negative start', [-1], [1], /group 0 \(iovecs -1 \+ 1\)/],
      ['too many iovecs', [0], [n.TUN_WRITEV_MAX_IOV + 1], /at most 1024 per group/],
    ];
    for (const [what, start, count, re] of bad) {
      assert.throws(() => n.tunWritevBatch(fd, slab, offs, lens, new Int32Array(start), new Int32Array(count), 1, results), re, what);
    }
    // The second group's last iovec runs past the slab: nothing is written for the first either.
    lens[3] = 8192;
    assert.throws(() => n.tunWritevBatch(fd, slab, offs, lens, new Int32Array([0, 2]), new Int32Array([2, 2]), 2, results), /lies outside the slab/);
    lens[3] = 10;
    assert.throws(() => n.tunWritevBatch(fd, slab, offs, lens, new Int32Array([0, 2]), new Int32Array([2, 2]), 3, results), /groupCount must be an integer in \[0, 2\]/);
    assert.throws(() => n.tunWritevBatch(fd, slab, offs, lens, new Int32Array([0, 2]), new Int32Array([2, 2]), 2, new Int32Array(1)), /results has 1 entries/);
    assert.deepEqual([...results], [7, 7, 7, 7], 'no result written by a refused call');
    // A valid call on an unconnected UDP socket: each writev fails, reported per group, never thrown.
    assert.equal(n.tunWritevBatch(fd, slab, offs, lens, new Int32Array([0, 2]), new Int32Array([2, 2]), 2, results), 0);
    assert.ok(results[0] < 0 && results[1] < 0, `per-group -errno: ${results}`);
  });
});

/** The fd of a connected node:dgram socket (its handle is internal; read once, without the deprecated accessor). */
function fdOf(sock: Socket): number {
  for (const sym of Object.getOwnPropertySymbols(sock)) {
    const state = (sock as unknown as Record<symbol, { handle?: { fd?: number } }>)[sym];
    if (state && typeof state === 'object' && state.handle && typeof state.handle.fd === 'number') return state.handle.fd;
  }
  throw new Error('no fd on the dgram socket');
}

for (const gro of [false, true]) {
  test(`${gro ? 'udpRecvBatchGro' : 'udpRecvBatch'}: an ICMP error queued on the socket is reported in status and survived; the datagram behind it is read`, async (t) => {
    const { ECONNREFUSED } = constants.errno;
    // A: a real socket connected to B, so the kernel queues ICMP errors on it (sk_err).
    const b = n.udpOpen(4, '127.0.0.1', 0);
    const bPort = n.udpLocalPort(b);
    const a = createSocket('udp4');
    t.after(() => a.close());
    await new Promise<void>((resolve) => a.connect(bPort, '127.0.0.1', resolve));
    const aFd = fdOf(a);
    const aPort = a.address().port;
    const slab = Buffer.alloc(8192);
    const one = { offsets: new Int32Array([0]), lengths: new Int32Array([5]), eps: new Uint8Array(S) };
    slab.write('hello', 0);
    // Everything below runs in one synchronous block: node's own poll of A never runs in between.
    encodeEndpoint({ family: 4, address: '127.0.0.1', port: aPort }, one.eps);
    assert.equal(n.udpSendBatch(b, slab, one.offsets, one.lengths, one.eps, 1), 1, 'B -> A: a datagram waits in A');
    n.closeFd(b);
    const none = new Uint8Array(S); // family 0: the connected peer
    assert.equal(n.udpSendBatch(aFd, slab, one.offsets, one.lengths, none, 1), 1, 'A -> closed B: ICMP port unreachable comes back');
    const offsets = new Int32Array([1024, 2048, 3072]);
    const lengths = new Int32Array(3);
    const eps = new Uint8Array(3 * S);
    const status = new Int32Array(n.IO_STATUS_LENGTH);
    const got = gro
      ? n.udpRecvBatchGro(aFd, slab, offsets, lengths, eps, 1000, 3, new Uint8Array(n.UDP_GRO_RING_BYTES), status)
      : n.udpRecvBatch(aFd, slab, offsets, lengths, eps, 1000, 3, status);
    assert.deepEqual([...status], [1, -ECONNREFUSED], 'one survived error, ECONNREFUSED');
    assert.equal(got, 1, 'the datagram behind the error was read in the same call');
    assert.equal(slab.toString('utf8', 1024, 1029), 'hello');
    // Nothing more: no error, nothing read, status cleared.
    const again = gro
      ? n.udpRecvBatchGro(aFd, slab, offsets, lengths, eps, 1000, 3, new Uint8Array(n.UDP_GRO_RING_BYTES), status)
      : n.udpRecvBatch(aFd, slab, offsets, lengths, eps, 1000, 3, status);
    assert.deepEqual([again, ...status], [0, 0, 0]);
    // Without a status array the error is still survived (and not reported).
    assert.equal(n.udpSendBatch(aFd, slab, one.offsets, one.lengths, none, 1), 1);
    assert.equal(n.udpRecvBatch(aFd, slab, offsets, lengths, eps, 1000, 3), 0);
  });
}
