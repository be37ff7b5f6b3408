import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import sodium from 'libsodium-wrappers';
import { AEAD_TAG_LENGTH, KEY_LENGTH, nativeAeadAvailable, openBatch, sealBatch } from './aead.js';
import { referenceOpen, referenceOpenBatch, referenceReady, referenceSeal, referenceSealBatch, wireguardNonce } from './aead-reference.js';

const addonPath = new URL('../../build/Release/ferry.node', import.meta.url).pathname;
// The raw addon, to check native/'s own argument validation past the wrapper's.
const raw = createRequire(import.meta.url)(addonPath) as {
  chachaSealBatch: (...args: unknown[]) => void;
  chachaOpenBatch: (...args: unknown[]) => number;
};

const SLOT = 1600;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

before(async () => {
  await referenceReady();
});

interface Pkt {
  key: number;
  counter: bigint;
  /** distance of the payload from its slot start, header included (>= 8) */
  pad: number;
  plaintext: Uint8Array;
}

/** Lays packets out one per slot, writing each header counter; returns the batch arrays. */
function layout(pkts: Pkt[], sealedLengths = false) {
  const slab = Buffer.alloc(pkts.length * SLOT + 64, 0xa5);
  const offsets = new Int32Array(pkts.length);
  const lengths = new Int32Array(pkts.length);
  const keyIndex = new Int32Array(pkts.length);
  pkts.forEach((p, i) => {
    const off = i * SLOT + p.pad;
    offsets[i] = off;
    lengths[i] = p.plaintext.length + (sealedLengths ? AEAD_TAG_LENGTH : 0);
    keyIndex[i] = p.key;
    slab.writeBigUInt64LE(BigInt.asUintN(64, p.counter), off - 8);
    slab.set(p.plaintext, off);
  });
  return { slab, offsets, lengths, keyIndex };
}

const counterArb = fc.oneof(
  fc.constantFrom(0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 32n + 1n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n),
  fc.bigInt({ min: 2n ** 53n - 1000n, max: 2n ** 53n + 1000n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const KEY_SLOTS = 4;
const pktArb = fc.record({
  key: fc.integer({ min: 0, max: KEY_SLOTS - 1 }),
  counter: counterArb,
  pad: fc.integer({ min: 8, max: 60 }),
  plaintext: fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.uint8Array({ minLength: 0, maxLength: 1500 })),
});
const batchArb = fc.record({
  keys: fc.uint8Array({ minLength: KEY_SLOTS * KEY_LENGTH, maxLength: KEY_SLOTS * KEY_LENGTH }),
  pkts: fc.array(pktArb, { minLength: 1, maxLength: 12 }),
});

const keyOf = (keys: Uint8Array, k: number) => keys.subarray(k * KEY_LENGTH, (k + 1) * KEY_LENGTH);

test('the native addon loads with every symbol resolved', () => {
  assert.equal(nativeAeadAvailable(), true);
  assert.equal(typeof raw.chachaSealBatch, 'function');
  assert.equal(typeof raw.chachaOpenBatch, 'function');
});

test('native seal matches libsodium and opens back; only [off, off+len+16) changes', () => {
  fc.assert(
    fc.property(batchArb, ({ keys, pkts }) => {
      const { slab, offsets, lengths, keyIndex } = layout(pkts);
      const before = Buffer.from(slab);
      sealBatch(slab, offsets, lengths, keys, keyIndex, pkts.length);
      const touched = new Uint8Array(slab.length);
      pkts.forEach((p, i) => {
        const off = offsets[i];
        const expected = referenceSeal(keyOf(keys, p.key), p.counter, p.plaintext);
        assert.deepEqual(slab.subarray(off, off + expected.length), Buffer.from(expected));
        assert.deepEqual(referenceOpen(keyOf(keys, p.key), p.counter, slab.subarray(off, off + expected.length)), p.plaintext);
        touched.fill(1, off, off + expected.length);
      });
      for (let b = 0; b < slab.length; b++) if (!touched[b]) assert.equal(slab[b], before[b], `byte ${b} outside the packets changed`);

      const sealedSlab = Buffer.from(slab);
      const sealedLengths = lengths.map((l) => l + AEAD_TAG_LENGTH);
      const results = new Int32Array(pkts.length).fill(12345);
      assert.equal(openBatch(slab, offsets, sealedLengths, keys, keyIndex, pkts.length, results), pkts.length);
      pkts.forEach((p, i) => {
        assert.equal(results[i], p.plaintext.length);
        assert.deepEqual(slab.subarray(offsets[i], offsets[i] + p.plaintext.length), Buffer.from(p.plaintext));
        // open leaves the tag where it was
        const tagAt = offsets[i] + p.plaintext.length;
        assert.deepEqual(slab.subarray(tagAt, tagAt + 16), sealedSlab.subarray(tagAt, tagAt + 16));
      });
      for (let b = 0; b < slab.length; b++) if (!touched[b]) assert.equal(slab[b], before[b]);
    }),
    { numRuns: 150 },
  );
});

test('libsodium seal opens with the native kernel', () => {
  fc.assert(
    fc.property(batchArb, ({ keys, pkts }) => {
      const sealed = pkts.map((p) => ({ ...p, plaintext: referenceSeal(keyOf(keys, p.key), p.counter, p.plaintext) }));
      const { slab, offsets, lengths, keyIndex } = layout(sealed);
      const results = new Int32Array(pkts.length);
      assert.equal(openBatch(slab, offsets, lengths, keys, keyIndex, pkts.length, results), pkts.length);
      pkts.forEach((p, i) => {
        assert.equal(results[i], p.plaintext.length);
        assert.deepEqual(slab.subarray(offsets[i], offsets[i] + p.plaintext.length), Buffer.from(p.plaintext));
      });
    }),
    { numRuns: 150 },
  );
});

test('the reference batch functions follow the same contract as the native ones', () => {
  fc.assert(
    fc.property(batchArb, fc.nat(), ({ keys, pkts }, pick) => {
      const a = layout(pkts);
      const b = layout(pkts);
      sealBatch(a.slab, a.offsets, a.lengths, keys, a.keyIndex, pkts.length);
      referenceSealBatch(b.slab, b.offsets, b.lengths, keys, b.keyIndex, pkts.length);
      assert.deepEqual(a.slab, b.slab);
      const sealedLengths = a.lengths.map((l) => l + AEAD_TAG_LENGTH);
      const bad = pick % pkts.length;
      a.slab[a.offsets[bad] + (pick % sealedLengths[bad])] ^= 1;
      b.slab[b.offsets[bad] + (pick % sealedLengths[bad])] ^= 1;
      const ra = new Int32Array(pkts.length);
      const rb = new Int32Array(pkts.length);
      const na = openBatch(a.slab, a.offsets, sealedLengths, keys, a.keyIndex, pkts.length, ra);
      const nb = referenceOpenBatch(b.slab, b.offsets, sealedLengths, keys, b.keyIndex, pkts.length, rb);
      assert.equal(na, pkts.length - 1);
      assert.equal(na, nb);
      assert.deepEqual(ra, rb);
      assert.deepEqual(a.slab, b.slab);
    }),
    { numRuns: 60 },
  );
});

// Computed once with libsodium's crypto_aead_chacha20poly1305_ietf_encrypt, no AAD.
const KAT = {
  key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
  counter: 0x0102030405060708n,
  plaintext: 'ferry: WireGuard transport data, sealed in place by ChaCha20-Poly1305.',
  sealed:
    '92d49cc929e07b8a4ac314cc7b1617bbd307268a5c59e3c1794458fa043fe84ea41551d4d19b104c15f121ba5605973af2b1e2d1b112ebb6a6ab9a5068faeb1907b301a90cb210ecc8fdccf65a015c9d080d34c4446a',
  emptySealed: '078b351197976378c834e53b78461168',
};

test('known-answer vector (fixed hex), including an empty payload (keepalive)', () => {
  const pt = Buffer.from(KAT.plaintext);
  const { slab, offsets, lengths, keyIndex } = layout([
    { key: 0, counter: KAT.counter, pad: 16, plaintext: pt },
    { key: 0, counter: KAT.counter, pad: 16, plaintext: new Uint8Array(0) },
  ]);
  const keys = hex(KAT.key);
  sealBatch(slab, offsets, lengths, keys, keyIndex, 2);
  assert.equal(slab.subarray(offsets[0], offsets[0] + pt.length + 16).toString('hex'), KAT.sealed);
  assert.equal(slab.subarray(offsets[1], offsets[1] + 16).toString('hex'), KAT.emptySealed);
  const results = new Int32Array(2);
  assert.equal(openBatch(slab, offsets, new Int32Array([pt.length + 16, 16]), keys, keyIndex, 2, results), 2);
  assert.deepEqual([...results], [pt.length, 0]);
  assert.equal(slab.subarray(offsets[0], offsets[0] + pt.length).toString(), KAT.plaintext);
});

// RFC 8439 Appendix A.5: its nonce is 00000000 || 0102030405060708, i.e. WireGuard's form
// with counter 0x0807060504030201, but it has 12 bytes of AAD. The ciphertext does not
// depend on the AAD, so it checks our nonce layout and keystream; the tag does, so the tag
// is checked against libsodium without AAD instead.
const A5 = {
  key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0',
  nonce: '000000000102030405060708',
  aad: 'f33388860000000000004e91',
  plaintext:
    '496e7465726e65742d4472616674732061726520647261667420646f63756d656e74732076616c696420666f722061206d6178696d756d206f6620736978206d6f6e74687320616e64206d617920626520757064617465642c207265706c616365642c206f72206f62736f6c65746564206279206f7468657220646f63756d656e747320617420616e792074696d652e20497420697320696e617070726f70726961746520746f2075736520496e7465726e65742d447261667473206173207265666572656e6365206d6174657269616c206f7220746f2063697465207468656d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67726573732e2fe2809d',
  ciphertext:
    '64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb24c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c8559797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523eaf4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a1049e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29a6ad5cb4022b02709b',
  tag: 'eead9d67890cbb22392336fea1851f38',
};

test('RFC 8439 A.5: native ciphertext matches the RFC; its nonce is the WireGuard layout', () => {
  const key = hex(A5.key);
  const counter = 0x0807060504030201n;
  assert.equal(Buffer.from(wireguardNonce(counter)).toString('hex'), A5.nonce);
  // The transcription is right: libsodium opens the RFC vector with its AAD.
  const opened = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(null, hex(A5.ciphertext + A5.tag), hex(A5.aad), hex(A5.nonce), key);
  assert.equal(Buffer.from(opened).toString('hex'), A5.plaintext);

  const pt = hex(A5.plaintext);
  const { slab, offsets, lengths, keyIndex } = layout([{ key: 0, counter, pad: 8, plaintext: pt }]);
  sealBatch(slab, offsets, lengths, key, keyIndex, 1);
  assert.equal(slab.subarray(8, 8 + pt.length).toString('hex'), A5.ciphertext);
  const tag = slab.subarray(8 + pt.length, 8 + pt.length + 16);
  assert.deepEqual(tag, Buffer.from(referenceSeal(key, counter, pt).subarray(pt.length)));
  assert.notEqual(tag.toString('hex'), A5.tag); // the RFC tag covers its AAD; ours has none
});

test('tampering fails only the tampered packet, which is zeroed; short packets fail', () => {
  const keys = randomBytes(3 * KEY_LENGTH);
  const pkts: Pkt[] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ key: i % 3, counter: BigInt(i * 1000), pad: 16, plaintext: randomBytes(100 + i) }));
  const { slab, offsets, lengths, keyIndex } = layout(pkts);
  sealBatch(slab, offsets, lengths, keys, keyIndex, pkts.length);
  const sealedLengths = lengths.map((l) => l + 16);
  slab[offsets[1] + 5] ^= 0x01; // ciphertext bit
  slab[offsets[2] + sealedLengths[2] - 1] ^= 0x80; // tag bit
  sealedLengths[3] = 15; // shorter than a tag
  sealedLengths[4] = 0;
  keyIndex[5] = (keyIndex[5] + 1) % 3; // wrong key
  slab[offsets[6] - 8] ^= 0x01; // wrong counter (nonce)
  const before = Buffer.from(slab);
  const results = new Int32Array(pkts.length);
  assert.equal(openBatch(slab, offsets, sealedLengths, keys, keyIndex, pkts.length, results), 2);
  assert.deepEqual([...results], [pkts[0].plaintext.length, -1, -1, -1, -1, -1, -1, pkts[7].plaintext.length]);
  for (const i of [0, 7]) assert.deepEqual(slab.subarray(offsets[i], offsets[i] + results[i]), pkts[i].plaintext);
  for (const i of [1, 2, 5, 6]) assert.ok(slab.subarray(offsets[i], offsets[i] + sealedLengths[i]).every((b) => b === 0), `packet ${i} not zeroed`);
  // too-short packets are left alone
  assert.deepEqual(slab.subarray(offsets[3], offsets[3] + 120), before.subarray(offsets[3], offsets[3] + 120));
});

test('runs of one keypair (key set once per run): a failure inside a run leaves the rest of the run opening', () => {
  const keys = randomBytes(2 * KEY_LENGTH);
  const runKeys = [0, 0, 0, 0, 1, 1, 1, 0, 0];
  const pkts: Pkt[] = runKeys.map((key, i) => ({ key, counter: BigInt(i), pad: 16, plaintext: randomBytes(200 + i) }));
  const { slab, offsets, lengths, keyIndex } = layout(pkts);
  sealBatch(slab, offsets, lengths, keys, keyIndex, pkts.length);
  pkts.forEach((p, i) => {
    const sealed = slab.subarray(offsets[i], offsets[i] + lengths[i] + AEAD_TAG_LENGTH);
    assert.deepEqual(Buffer.from(referenceOpen(keyOf(keys, p.key), p.counter, sealed) ?? []), Buffer.from(p.plaintext), `packet ${i} sealed under its own key and nonce`);
  });
  const sealedLengths = lengths.map((l) => l + AEAD_TAG_LENGTH);
  slab[offsets[1] + 3] ^= 0x01; // inside the first run
  slab[offsets[5] + sealedLengths[5] - 1] ^= 0x01; // inside the second run
  const results = new Int32Array(pkts.length);
  assert.equal(openBatch(slab, offsets, sealedLengths, keys, keyIndex, pkts.length, results), pkts.length - 2);
  pkts.forEach((p, i) => {
    if (i === 1 || i === 5) return assert.equal(results[i], -1);
    assert.equal(results[i], p.plaintext.length);
    assert.deepEqual(slab.subarray(offsets[i], offsets[i] + results[i]), Buffer.from(p.plaintext));
  });
});

function badCalls(slab: Buffer, offsets: Int32Array, lengths: Int32Array, keys: Uint8Array, keyIndex: Int32Array, n: number) {
  const last = n - 1;
  const withEntry = (arr: Int32Array, v: number) => {
    const c = arr.slice();
    c[last] = v;
    return c;
  };
  return [
    { name: 'offset < 8', args: [slab, withEntry(offsets, 7), lengths, keys, keyIndex, n], error: RangeError },
    { name: 'negative length', args: [slab, offsets, withEntry(lengths, -1), keys, keyIndex, n], error: RangeError },
    { name: 'past the slab', args: [slab, withEntry(offsets, slab.length - lengths[last] + 1), lengths, keys, keyIndex, n], error: RangeError },
    { name: 'huge offset', args: [slab, withEntry(offsets, 0x7fffffff), lengths, keys, keyIndex, n], error: RangeError },
    { name: 'keyIndex past the table', args: [slab, offsets, lengths, keys, withEntry(keyIndex, keys.length / KEY_LENGTH), n], error: RangeError },
    { name: 'negative keyIndex', args: [slab, offsets, lengths, keys, withEntry(keyIndex, -1), n], error: RangeError },
    { name: 'count too large', args: [slab, offsets, lengths, keys, keyIndex, n + 1], error: RangeError },
    { name: 'fractional count', args: [slab, offsets, lengths, keys, keyIndex, 1.5], error: RangeError },
    { name: 'negative count', args: [slab, offsets, lengths, keys, keyIndex, -1], error: RangeError },
    { name: 'Float64Array offsets', args: [slab, Float64Array.from(offsets), lengths, keys, keyIndex, n], error: TypeError },
    { name: 'plain array lengths', args: [slab, offsets, [...lengths], keys, keyIndex, n], error: TypeError },
    { name: 'slab as ArrayBuffer', args: [slab.buffer, offsets, lengths, keys, keyIndex, n], error: TypeError },
    { name: 'Uint32Array keyIndex', args: [slab, offsets, lengths, keys, Uint32Array.from(keyIndex), n], error: TypeError },
    { name: 'string count', args: [slab, offsets, lengths, keys, keyIndex, String(n)], error: TypeError },
  ];
}

test('misuse throws before any packet is modified (native and wrapper, seal and open)', () => {
  const keys = randomBytes(2 * KEY_LENGTH);
  const pkts: Pkt[] = [0, 1, 2].map((i) => ({ key: i % 2, counter: BigInt(i), pad: 8 + i, plaintext: randomBytes(200) }));
  const { slab, offsets, lengths, keyIndex } = layout(pkts);
  const snapshot = Buffer.from(slab);
  const results = new Int32Array(3).fill(7);
  const openArgs = (args: unknown[]) => [...args, results];
  for (const c of badCalls(slab, offsets, lengths, keys, keyIndex, 3)) {
    const calls: [string, () => unknown][] = [
      ['native seal', () => raw.chachaSealBatch(...c.args)],
      ['native open', () => raw.chachaOpenBatch(...openArgs(c.args))],
      ['sealBatch', () => (sealBatch as (...a: unknown[]) => void)(...c.args)],
      ['openBatch', () => (openBatch as (...a: unknown[]) => number)(...openArgs(c.args))],
    ];
    for (const [who, call] of calls) {
      assert.throws(call, c.error, `${who}: ${c.name}`);
      assert.deepEqual(slab, snapshot, `${who}: ${c.name} modified the slab`);
      assert.deepEqual([...results], [7, 7, 7], `${who}: ${c.name} wrote results`);
    }
  }
  // open may end exactly at the slab end; seal needs 16 more bytes there
  const endOffsets = offsets.slice();
  endOffsets[2] = slab.length - lengths[2];
  assert.throws(() => raw.chachaSealBatch(slab, endOffsets, lengths, keys, keyIndex, 3), RangeError);
  assert.deepEqual(slab, snapshot);
  raw.chachaOpenBatch(slab, endOffsets, lengths, keys, keyIndex, 3, results);
  assert.deepEqual([...results], [-1, -1, -1]);
  // too few arguments, results of the wrong type
  assert.throws(() => raw.chachaOpenBatch(slab, offsets, lengths, keys, keyIndex, 3), TypeError);
  assert.throws(() => raw.chachaOpenBatch(slab, offsets, lengths, keys, keyIndex, 3, new Uint8Array(3)), TypeError);
  assert.throws(() => raw.chachaOpenBatch(slab, offsets, lengths, keys, keyIndex, 3, new Int32Array(2)), RangeError);
});

test('count 0 is a no-op, even with empty arrays and an empty key table', () => {
  const slab = Buffer.alloc(32, 1);
  const e = new Int32Array(0);
  sealBatch(slab, e, e, new Uint8Array(0), e, 0);
  assert.equal(openBatch(slab, e, e, new Uint8Array(0), e, 0, e), 0);
  assert.ok(slab.every((b) => b === 1));
});

test('works on a slab backed by a SharedArrayBuffer and on a Uint8Array view with an offset', () => {
  const keys = randomBytes(KEY_LENGTH);
  const plaintext = randomBytes(300);
  for (const slab of [Buffer.from(new SharedArrayBuffer(1024)), new Uint8Array(new ArrayBuffer(1100), 76, 1024)]) {
    new DataView(slab.buffer, slab.byteOffset).setBigUint64(100 - 8, 42n, true);
    slab.set(plaintext, 100);
    const offsets = Int32Array.of(100);
    sealBatch(slab, offsets, Int32Array.of(300), keys, Int32Array.of(0), 1);
    assert.deepEqual(Buffer.from(slab.subarray(100, 416)), Buffer.from(referenceSeal(keys, 42n, plaintext)));
    const results = new Int32Array(1);
    assert.equal(openBatch(slab, offsets, Int32Array.of(316), keys, Int32Array.of(0), 1, results), 1);
    assert.deepEqual(Buffer.from(slab.subarray(100, 400)), plaintext);
  }
});

test('each worker thread gets its own cipher context and tears it down on exit', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const addon = require(workerData.path);
    const slab = Buffer.alloc(256);
    slab.writeBigUInt64LE(7n, 8);
    slab.fill(9, 16, 16 + 100);
    const keys = Buffer.alloc(32, 3);
    addon.chachaSealBatch(slab, Int32Array.of(16), Int32Array.of(100), keys, Int32Array.of(0), 1);
    parentPort.postMessage(Buffer.from(slab.subarray(16, 132)).toString('hex'));
  `;
  const run = () =>
    new Promise<string>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: { path: addonPath } });
      w.once('message', resolve);
      w.once('error', reject);
    });
  const [a, b] = await Promise.all([run(), run()]);
  const expected = Buffer.from(referenceSeal(new Uint8Array(32).fill(3), 7n, new Uint8Array(100).fill(9))).toString('hex');
  assert.equal(a, expected);
  assert.equal(b, expected);
});
