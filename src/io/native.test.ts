import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSystemError } from '../errors.js';
import { ENDPOINT_STRIDE } from './endpoint.js';
import { loadNative } from './native.js';

const n = loadNative();

/** A real fd (a UDP socket) so argument checks, not the fd, decide the outcome. */
function withSocket(fn: (fd: number) => void): void {
  const fd = n.udpOpen(4, '127.0.0.1', 0);
  try {
    fn(fd);
  } finally {
    n.closeFd(fd);
  }
}

test('native: flag constants and batch limit are exported', () => {
  assert.deepEqual([n.TUN_TAP, n.TUN_VNET_HDR, n.TUN_MULTI_QUEUE], [1, 2, 4]);
  assert.equal(n.UDP_MAX_BATCH, 1024);
});

test('native: TUN and link functions reject bad arguments before any syscall', () => {
  assert.throws(() => n.tunOpen('a-name-longer-than-15', 0), { name: 'RangeError', message: /tunOpen: name is too long/ });
  assert.throws(() => n.tunOpen(42 as unknown as string, 0), { name: 'TypeError', message: /tunOpen: name must be a string/ });
  assert.throws(() => n.tunOpen('x', 8), { name: 'RangeError', message: /tunOpen: flags must be an integer in \[0, 7\]/ });
  assert.throws(() => n.tunGetInfo(-1), { name: 'RangeError', message: /tunGetInfo: fd/ });
  assert.throws(() => n.tunGetInfo(1.5), { name: 'RangeError' });
  assert.throws(() => n.linkSetMtu('', 1400), { name: 'RangeError', message: /must not be empty/ });
  assert.throws(() => n.linkSetMtu('lo', 20), { name: 'RangeError', message: /linkSetMtu: mtu/ });
  assert.throws(() => n.linkSetUp('lo', 1 as unknown as boolean), { name: 'TypeError', message: /linkSetUp: up must be a boolean/ });
});

test('native: batch functions check array types, counts and that every window lies in the slab', () => {
  const slab = Buffer.alloc(4096);
  const offs = new Int32Array([0, 1024, 2048, 3072]);
  const lens = new Int32Array(4);
  const eps = new Uint8Array(4 * ENDPOINT_STRIDE);
  withSocket((fd) => {
    assert.throws(() => n.tunReadBatch(fd, slab, new Uint32Array(4) as unknown as Int32Array, lens, 100, 1), {
      name: 'TypeError',
      message: /tunReadBatch: offsets must be an Int32Array/,
    });
    assert.throws(() => n.tunReadBatch(fd, [] as unknown as Uint8Array, offs, lens, 100, 1), { name: 'TypeError', message: /slab must be a Uint8Array/ });
    assert.throws(() => n.tunReadBatch(fd, slab, offs, new Int32Array(2), 100, 3), { name: 'RangeError', message: /count must be an integer in \[0, 2\]/ });
    assert.throws(() => n.tunReadBatch(fd, slab, offs, lens, 1025, 4), {
      name: 'RangeError',
      message: /tunReadBatch: packet 3 \(offset 3072, length 1025\) lies outside the slab \(4096 bytes\)/,
    });
    assert.throws(() => n.tunReadBatch(fd, slab, offs, lens, 0, 1), { name: 'RangeError', message: /maxLen/ });
    assert.throws(() => n.tunWriteBatch(fd, slab, new Int32Array([-1]), new Int32Array([1]), 1), { name: 'RangeError', message: /offset -1/ });
    assert.throws(() => n.tunWriteBatch(fd, slab, offs, new Int32Array([1, 1, 1, 2000]), 4), { name: 'RangeError', message: /packet 3/ });
    assert.throws(() => n.tunWriteBatch(fd, slab, offs, lens, 4, new Int32Array(3)), { name: 'RangeError', message: /errors has 3 entries/ });
    assert.throws(() => n.udpRecvBatch(fd, slab, offs, lens, new Uint8Array(2 * ENDPOINT_STRIDE - 1), 100, 2), {
      name: 'RangeError',
      message: new RegExp(`count \\(limited by offsets, lengths and endpoints/${ENDPOINT_STRIDE}\\) must be an integer in \\[0, 1\\]`),
    });
    assert.throws(() => n.udpRecvBatch(fd, slab, offs, lens, eps, 2000, 4), { name: 'RangeError', message: /udpRecvBatch: packet 3 \(offset 3072, length 2000\)/ });
    eps[ENDPOINT_STRIDE] = 9;
    assert.throws(() => n.udpSendBatch(fd, slab, offs, new Int32Array([1, 1, 1, 1]), eps, 4), {
      name: 'RangeError',
      message: /udpSendBatch: endpoint 1 has family 9/,
    });
    // Nothing waiting: 0, not an error.
    assert.equal(n.udpRecvBatch(fd, slab, offs, lens, eps, 100, 4), 0);
    assert.equal(n.udpRecvBatch(fd, slab, offs, lens, eps, 100, 0), 0);
  });
});

test('native: syscall failures throw errors with .code, .errno and .syscall', () => {
  const bad = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(isSystemError(e), `a SystemError: ${String(e)}`);
      return e;
    }
    assert.fail('did not throw');
  };
  const e1 = bad(() => n.udpOpen(4, '192.0.2.1', 0));
  assert.deepEqual([e1.code, e1.errno, e1.syscall], ['EADDRNOTAVAIL', -99, 'bind']);
  assert.match(e1.message, /^bind: /);
  const e2 = bad(() => n.closeFd(999_999));
  assert.deepEqual([e2.code, e2.errno, e2.syscall], ['EBADF', -9, 'close']);
  const e3 = bad(() => n.linkGetMtu('fy-no-such-if'));
  assert.deepEqual([e3.code, e3.syscall], ['ENODEV', 'ioctl SIOCGIFMTU']);
  withSocket((fd) => {
    // A UDP socket is not a TUN device.
    const e4 = bad(() => n.tunGetInfo(fd));
    assert.equal(e4.syscall, 'ioctl TUNGETIFF');
    assert.ok(e4.errno < 0);
  });
  const e5 = bad(() => n.udpRecvBatch(999_999, Buffer.alloc(64), new Int32Array(1), new Int32Array(1), new Uint8Array(ENDPOINT_STRIDE), 64, 1));
  assert.deepEqual([e5.code, e5.syscall], ['EBADF', 'recvmmsg']);
});

test('native: poll functions validate the handle and callback', () => {
  assert.throws(() => n.pollStart(0, 1, 'nope' as unknown as () => void), { name: 'TypeError', message: /callback must be a function/ });
  assert.throws(() => n.pollStart(0, 4, () => {}), { name: 'RangeError', message: /events/ });
  assert.throws(() => n.pollUpdate({} as never, 1), { name: 'TypeError', message: /handle returned by pollStart/ });
  assert.throws(() => n.pollStop(null as never), { name: 'TypeError', message: /handle returned by pollStart/ });
});
