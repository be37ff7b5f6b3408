import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { blake2s } from '@noble/hashes/blake2.js';
import {
  aeadOpen,
  aeadSeal,
  chachaPolyOpen,
  chachaPolySeal,
  clampPrivateKey,
  constantTimeEqual,
  derivePublicKey,
  dh,
  hash,
  hmacBlake2s,
  initCrypto,
  isCryptoReady,
  isZero,
  kdf1,
  kdf2,
  kdf3,
  mac,
  newPrivateKey,
  xaeadOpen,
  xaeadSeal,
} from './crypto.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'latin1'));
const range = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

// Runs first: node:test runs a file's top-level tests in order, each file in its own process.
test('sodium-backed functions throw a clear error before initCrypto()', async () => {
  assert.equal(isCryptoReady(), false);
  assert.throws(() => dh(new Uint8Array(32), new Uint8Array(32), new Uint8Array(32)), /await initCrypto\(\)/);
  assert.throws(() => derivePublicKey(new Uint8Array(32), new Uint8Array(32)), /await initCrypto\(\)/);
  // BLAKE2s and the random generator (node:crypto) need no initialization.
  hash(new Uint8Array(32), ascii('abc'));
  const key = new Uint8Array(32);
  newPrivateKey(key);
  assert.ok(key.some((x) => x !== 0));
  await initCrypto();
  await initCrypto(); // idempotent
  assert.equal(isCryptoReady(), true);
});

test('HASH: RFC 7693 Appendix B, BLAKE2s-256("abc")', () => {
  const out = new Uint8Array(32);
  hash(out, ascii('abc'));
  assert.equal(toHex(out), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
  // HASH(a || b) is the hash of the concatenation, and out may alias an input.
  const a = ascii('ab');
  const aliased = new Uint8Array(32);
  aliased.set(ascii('a'));
  hash(aliased, aliased.subarray(0, 1), ascii('bc'));
  assert.equal(toHex(aliased), toHex(out));
  hash(out, a, ascii('c'));
  assert.equal(toHex(out), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
});

test('keyed BLAKE2s: blake2s-kat key 00..1f, empty input', () => {
  assert.equal(toHex(blake2s(new Uint8Array(0), { key: range(32) })), '48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49');
});

test('RFC 7693 Appendix E self-test (keyed and unkeyed, 16..32-byte outputs) through HASH and MAC', () => {
  // Deterministic sequence of RFC 7693 selftest_seq().
  const seq = (len: number, seed: number): Uint8Array => {
    const out = new Uint8Array(len);
    let a = Math.imul(0xdead4bad, seed) >>> 0;
    let b = 1;
    for (let i = 0; i < len; i++) {
      const t = (a + b) >>> 0;
      a = b;
      b = t;
      out[i] = t >>> 24;
    }
    return out;
  };
  const grand = blake2s.create();
  for (const outlen of [16, 20, 28, 32]) {
    for (const inlen of [0, 3, 64, 65, 255, 1024]) {
      const input = seq(inlen, inlen);
      let md: Uint8Array;
      if (outlen === 32) {
        md = new Uint8Array(32);
        hash(md, input); // our HASH
      } else md = blake2s(input, { dkLen: outlen });
      grand.update(md);
      const key = seq(outlen, outlen);
      if (outlen === 16) {
        md = new Uint8Array(16);
        mac(md, 0, key, input); // our MAC (keyed, 128-bit)
      } else md = blake2s(input, { key, dkLen: outlen });
      grand.update(md);
    }
  }
  assert.equal(toHex(grand.digest()), '6a411f08ce25adcdfb02aba641451cec53c598b24f4fc787fbdc88797f4c1dfe');
});

test('MAC writes 16 bytes at the offset and nothing else', () => {
  const out = new Uint8Array(40).fill(0xee);
  mac(out, 3, range(32), ascii('data'));
  assert.equal(toHex(out.subarray(3, 19)), toHex(blake2s(ascii('data'), { key: range(32), dkLen: 16 })));
  assert.deepEqual([...out.subarray(0, 3)], [0xee, 0xee, 0xee]);
  assert.ok(out.subarray(19).every((b) => b === 0xee));
});

test('HASH and HMAC agree with OpenSSL (node:crypto blake2s256) on random inputs', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ minLength: 0, maxLength: 80 }), (a, b, key) => {
      const out = new Uint8Array(32);
      hash(out, a, b);
      assert.equal(toHex(out), createHash('blake2s256').update(a).update(b).digest('hex'));
      hmacBlake2s(out, key, a, b);
      assert.equal(toHex(out), createHmac('blake2s256', key).update(a).update(b).digest('hex'));
    }),
    { numRuns: 200 },
  );
});

test('KDF1/KDF2/KDF3: the vectors of wireguard-go device/kdf_test.go', () => {
  const vectors = [
    {
      key: '746573742d6b6579',
      input: '746573742d696e707574',
      t0: '6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633',
      t1: 'df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a',
      t2: 'fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24',
    },
    {
      key: '776972656775617264',
      input: '776972656775617264',
      t0: '491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8',
      t1: '1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f',
      t2: '31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160',
    },
    {
      key: '',
      input: '',
      t0: '8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0',
      t1: '58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e',
      t2: '0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e',
    },
  ];
  for (const v of vectors) {
    const t0 = new Uint8Array(32);
    const t1 = new Uint8Array(32);
    const t2 = new Uint8Array(32);
    kdf3(t0, t1, t2, hex(v.key), hex(v.input));
    assert.deepEqual([toHex(t0), toHex(t1), toHex(t2)], [v.t0, v.t1, v.t2]);
    t0.fill(0);
    t1.fill(0);
    kdf2(t0, t1, hex(v.key), hex(v.input));
    assert.deepEqual([toHex(t0), toHex(t1)], [v.t0, v.t1]);
    t0.fill(0);
    kdf1(t0, hex(v.key), hex(v.input));
    assert.equal(toHex(t0), v.t0);
  }
});

test('KDF output may alias its key (the handshake chains C in place)', () => {
  const key = hex('746573742d6b6579'.padEnd(64, '0'));
  const expected0 = new Uint8Array(32);
  const expected1 = new Uint8Array(32);
  kdf2(expected0, expected1, key, ascii('x'));
  const inPlace = Uint8Array.from(key);
  const t1 = new Uint8Array(32);
  kdf2(inPlace, t1, inPlace, ascii('x'));
  assert.equal(toHex(inPlace), toHex(expected0));
  assert.equal(toHex(t1), toHex(expected1));
});

test('DH: RFC 7748 section 5.2 vectors (the second has the u high bit set, which is masked)', () => {
  const out = new Uint8Array(32);
  assert.equal(dh(out, hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c')), true);
  assert.equal(toHex(out), 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
  assert.equal(dh(out, hex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'), hex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493')), true);
  assert.equal(toHex(out), '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
});

test('DH: RFC 7748 section 5.2 iterated, 1 and 1000 rounds', () => {
  let k = new Uint8Array(32);
  k[0] = 9;
  let u = Uint8Array.from(k);
  const out = new Uint8Array(32);
  for (let i = 1; i <= 1000; i++) {
    assert.equal(dh(out, k, u), true);
    u = k;
    k = Uint8Array.from(out);
    if (i === 1) assert.equal(toHex(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
  }
  assert.equal(toHex(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
});

test('DH: RFC 7748 section 6.1 Alice and Bob', () => {
  const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const alicePub = new Uint8Array(32);
  const bobPub = new Uint8Array(32);
  derivePublicKey(alicePub, alicePriv);
  derivePublicKey(bobPub, bobPriv);
  assert.equal(toHex(alicePub), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(bobPub), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const s1 = new Uint8Array(32);
  const s2 = new Uint8Array(32);
  assert.ok(dh(s1, alicePriv, bobPub));
  assert.ok(dh(s2, bobPriv, alicePub));
  assert.equal(toHex(s1), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  assert.equal(toHex(s2), toHex(s1));
});

test('DH rejects low-order points (all-zero shared secret) without throwing', () => {
  const lowOrder = [
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  ];
  const priv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  for (const p of lowOrder) {
    const out = new Uint8Array(32).fill(0xaa);
    assert.equal(dh(out, priv, hex(p)), false, p);
    assert.ok(isZero(out), `output wiped for ${p}`);
  }
});

test('newPrivateKey clamps; derivePublicKey matches X25519 with the base point', () => {
  const k = new Uint8Array(32);
  newPrivateKey(k);
  assert.equal(k[0] & 7, 0);
  assert.equal(k[31] & 0x80, 0);
  assert.equal(k[31] & 0x40, 0x40);
  const pub = new Uint8Array(32);
  derivePublicKey(pub, k);
  const base = new Uint8Array(32);
  base[0] = 9;
  const viaDh = new Uint8Array(32);
  assert.ok(dh(viaDh, k, base));
  assert.equal(toHex(pub), toHex(viaDh));
  const raw = new Uint8Array(32).fill(0xff);
  clampPrivateKey(raw);
  assert.equal(raw[0], 0xf8);
  assert.equal(raw[31], 0x7f);
});

const SUNSCREEN = ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
const AAD = hex('50515253c0c1c2c3c4c5c6c7');
const KEY_80 = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');

test('AEAD: RFC 8439 section 2.8.2 ChaCha20-Poly1305 vector', () => {
  const nonce = hex('070000004041424344454647');
  const sealed = new Uint8Array(SUNSCREEN.length + 16 + 3);
  chachaPolySeal(sealed, 3, KEY_80, nonce, SUNSCREEN, AAD);
  assert.equal(
    toHex(sealed.subarray(3, 3 + SUNSCREEN.length)),
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116',
  );
  assert.equal(toHex(sealed.subarray(3 + SUNSCREEN.length)), '1ae10b594f09e26a7e902ecbd0600691');
  const opened = new Uint8Array(SUNSCREEN.length);
  assert.ok(chachaPolyOpen(opened, 0, KEY_80, nonce, sealed.subarray(3), AAD));
  assert.deepEqual(opened, SUNSCREEN);
  for (const at of [3, 50, sealed.length - 1]) {
    const bad = Uint8Array.from(sealed);
    bad[at] ^= 1;
    assert.equal(chachaPolyOpen(opened, 0, KEY_80, nonce, bad.subarray(3), AAD), false);
  }
  const badAad = Uint8Array.from(AAD);
  badAad[0] ^= 1;
  assert.equal(chachaPolyOpen(opened, 0, KEY_80, nonce, sealed.subarray(3), badAad), false);
  assert.equal(chachaPolyOpen(opened, 0, KEY_80, nonce, new Uint8Array(15), AAD), false);
});

test('AEAD nonce is 32 zero bits then the little-endian 64-bit counter', () => {
  for (const [counter, nonceHex] of [
    [0, '000000000000000000000000'],
    [1, '000000000100000000000000'],
    [0x0102_0304_0506, '000000000605040302010000'],
    [2 ** 53 - 1, '00000000ffffffffffff1f00'],
  ] as const) {
    const viaCounter = new Uint8Array(16 + 5);
    const viaNonce = new Uint8Array(16 + 5);
    aeadSeal(viaCounter, 0, KEY_80, counter, ascii('hello'), AAD);
    chachaPolySeal(viaNonce, 0, KEY_80, hex(nonceHex), ascii('hello'), AAD);
    assert.equal(toHex(viaCounter), toHex(viaNonce), `counter ${counter}`);
    const plain = new Uint8Array(5);
    assert.ok(aeadOpen(plain, 0, KEY_80, counter, viaCounter, AAD));
    assert.equal(aeadOpen(plain, 0, KEY_80, counter + 1, viaCounter, AAD), false);
  }
});

test('XAEAD: draft-irtf-cfrg-xchacha section A.3.1 XChaCha20-Poly1305 vector', () => {
  const nonce = hex('404142434445464748494a4b4c4d4e4f5051525354555657');
  const sealed = new Uint8Array(SUNSCREEN.length + 16);
  xaeadSeal(sealed, 0, KEY_80, nonce, SUNSCREEN, AAD);
  assert.equal(
    toHex(sealed.subarray(0, SUNSCREEN.length)),
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e',
  );
  assert.equal(toHex(sealed.subarray(SUNSCREEN.length)), 'c0875924c1c7987947deafd8780acf49');
  const opened = new Uint8Array(SUNSCREEN.length);
  assert.ok(xaeadOpen(opened, 0, KEY_80, nonce, sealed, AAD));
  assert.deepEqual(opened, SUNSCREEN);
  sealed[10] ^= 0x80;
  assert.equal(xaeadOpen(opened, 0, KEY_80, nonce, sealed, AAD), false);
  assert.equal(xaeadOpen(opened, 0, KEY_80, nonce.subarray(0, 12), sealed, AAD), false);
});

test('constantTimeEqual compares ranges and refuses out-of-range ones', () => {
  const a = ascii('xxabcdyy');
  const b = ascii('abcd');
  assert.equal(constantTimeEqual(a, 2, b, 0, 4), true);
  assert.equal(constantTimeEqual(a, 1, b, 0, 4), false);
  assert.equal(constantTimeEqual(a, 6, b, 0, 4), false);
  assert.equal(constantTimeEqual(a, -1, b, 0, 4), false);
});
