import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { foldSum, internetChecksum, setTransportChecksumIPv4, setTransportChecksumIPv6, transportChecksumValidIPv4 } from './checksum.js';
import { checksumAdjust16, checksumAdjust32, checksumAdjustBytes, udpChecksumAdjust16, udpChecksumAdjust32, udpChecksumAdjustBytes } from './checksum-update.js';
import { IPProto } from './constants.js';
import { hexToBytes } from './format.js';
import { setIPv4HeaderChecksum, writeIPv4Header } from './ipv4.js';

test('RFC 1624 section 3/4 example: eqn. 3 gives 0x0000 where eqn. 2 gives 0xFFFF', () => {
  // Other header words sum to 0xCD7A; a field changes from 0x5555 to 0x3285.
  const hdr = hexToBytes('cd7a 5555 0000');
  const hc = internetChecksum(hdr, 0, 6);
  assert.equal(hc, 0xdd2f);
  hdr[2] = 0x32;
  hdr[3] = 0x85;
  const recomputed = internetChecksum(hdr, 0, 6);
  assert.equal(recomputed, 0x0000);
  assert.equal(checksumAdjust16(hc, 0x5555, 0x3285), recomputed);
  const eqn2 = foldSum(hc + 0x5555 + (~0x3285 & 0xffff));
  assert.equal(eqn2, 0xffff, 'the RFC 1141 form lands on -0');
});

test('RFC 1624: an unchanged field leaves any checksum but 0xFFFF unchanged (errata 4782 case HC = 0)', () => {
  assert.equal(checksumAdjust16(0x0000, 0x5555, 0x5555), 0x0000);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xfffe }), fc.integer({ min: 0, max: 0xffff }), (hc, m) => {
      assert.equal(checksumAdjust16(hc, m, m), hc);
      assert.equal(checksumAdjust32(hc, m * 65537, m * 65537), hc);
    }),
  );
});

test('RFC 1624: all-zero data after the change is the one case where eqn. 3 gives +0 and a recompute -0', () => {
  const d = hexToBytes('0001 0000');
  const hc = internetChecksum(d, 0, 4);
  assert.equal(hc, 0xfffe);
  d[1] = 0;
  assert.equal(internetChecksum(d, 0, 4), 0xffff);
  assert.equal(checksumAdjust16(hc, 1, 0), 0x0000);
});

const ipv4Header = fc.record({
  total: fc.integer({ min: 0, max: 0xffff }),
  proto: fc.integer({ min: 0, max: 255 }),
  src: fc.integer({ min: 0, max: 0xffffffff }),
  dst: fc.integer({ min: 0, max: 0xffffffff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 7 }),
  tos: fc.integer({ min: 0, max: 255 }),
});

function allZero(b: Uint8Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (b[i] !== 0 && (i - off < 10 || i - off > 11)) return false;
  return true;
}

test('RFC 1624: incremental 16-bit update equals a full recompute on random IPv4 headers', () => {
  fc.assert(
    fc.property(ipv4Header, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffff }), (h, word, value) => {
      fc.pre(word !== 5); // the checksum field itself
      const b = new Uint8Array(20);
      writeIPv4Header(b, 0, h.total, h.proto, h.src, h.dst, h.ttl, h.id, h.flags, h.tos);
      const hc = (b[10] << 8) | b[11];
      const old = (b[2 * word] << 8) | b[2 * word + 1];
      const adjusted = checksumAdjust16(hc, old, value);
      b[2 * word] = value >>> 8;
      b[2 * word + 1] = value & 0xff;
      b[10] = 0;
      b[11] = 0;
      const full = internetChecksum(b, 0, 20); // not setIPv4HeaderChecksum: word 0 holds the IHL it reads
      if (allZero(b, 0, 20)) {
        // The one place the forms differ: all-zero data, whose checksum is +0 or -0.
        assert.equal(full, 0xffff);
        assert.equal(adjusted, 0);
      } else {
        assert.equal(adjusted, full);
      }
    }),
  );
});

test('RFC 1624: 32-bit updates (an address) equal a full recompute', () => {
  fc.assert(
    fc.property(ipv4Header, fc.boolean(), fc.integer({ min: 0, max: 0xffffffff }), (h, which, addr) => {
      const b = new Uint8Array(20);
      writeIPv4Header(b, 0, h.total, h.proto, h.src, h.dst, h.ttl, h.id, h.flags, h.tos);
      const hc = (b[10] << 8) | b[11];
      const at = which ? 12 : 16;
      const old = ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
      const adjusted = checksumAdjust32(hc, old, addr);
      b[at] = addr >>> 24;
      b[at + 1] = (addr >>> 16) & 0xff;
      b[at + 2] = (addr >>> 8) & 0xff;
      b[at + 3] = addr & 0xff;
      assert.equal(adjusted, setIPv4HeaderChecksum(b, 0)); // the version byte keeps it non-zero
    }),
  );
});

test('NAT rewrite of a UDP/IPv4 datagram by incremental updates equals recomputing both checksums', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 64 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.boolean(),
      (data, src, dst, dport, newDst, newPort, noChecksum) => {
        const len = 8 + data.length;
        const b = new Uint8Array(20 + len);
        writeIPv4Header(b, 0, 20 + len, IPProto.UDP, src, dst);
        b.set([0x30, 0x39, dport >>> 8, dport & 0xff, len >>> 8, len & 0xff, 0, 0], 20);
        b.set(data, 28);
        if (!noChecksum) setTransportChecksumIPv4(b, 20, len, IPProto.UDP, src, dst);
        const ipc = (b[10] << 8) | b[11];
        const udpc = (b[26] << 8) | b[27];
        const ipc2 = checksumAdjust32(ipc, dst, newDst);
        const udpc2 = udpChecksumAdjust16(udpChecksumAdjust32(udpc, dst, newDst), dport, newPort);
        b[16] = newDst >>> 24;
        b[17] = (newDst >>> 16) & 0xff;
        b[18] = (newDst >>> 8) & 0xff;
        b[19] = newDst & 0xff;
        b[22] = newPort >>> 8;
        b[23] = newPort & 0xff;
        assert.equal(ipc2, setIPv4HeaderChecksum(b, 0));
        if (noChecksum) {
          assert.equal(udpc2, 0, '"no checksum" stays so');
        } else {
          assert.equal(udpc2, setTransportChecksumIPv4(b, 20, len, IPProto.UDP, src, newDst));
          assert.notEqual(udpc2, 0);
        }
      },
    ),
  );
});

test('UDP incremental update that lands on 0 writes 0xFFFF, as a full recompute does', () => {
  const len = 12;
  const b = new Uint8Array(20 + len);
  const src = 0xc0000201;
  const dst = 0xc0000202;
  writeIPv4Header(b, 0, 20 + len, IPProto.UDP, src, dst);
  b.set([0x12, 0x34, 0x00, 0x35, 0, len, 0, 0, 0xde, 0xad, 0xbe, 0xef], 20);
  const udpc = setTransportChecksumIPv4(b, 20, len, IPProto.UDP, src, dst);
  const c = ~udpc & 0xffff; // the covered sum
  // New port m' with C - m + m' ≡ 0 (mod 0xFFFF): the new sum is -0, the checksum 0.
  const m = 0x0035;
  const mNew = (((m - c) % 0xffff) + 0xffff) % 0xffff;
  assert.equal(checksumAdjust16(udpc, m, mNew), 0);
  assert.equal(udpChecksumAdjust16(udpc, m, mNew), 0xffff);
  b[22] = mNew >>> 8;
  b[23] = mNew & 0xff;
  assert.equal(setTransportChecksumIPv4(b, 20, len, IPProto.UDP, src, dst), 0xffff);
  assert.ok(transportChecksumValidIPv4(b, 20, len, IPProto.UDP, src, dst));
});

test('TCP sequence rewrite (32-bit) and IPv6 address rewrite (bytes) equal a full recompute', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 20, maxLength: 80 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.constantFrom(IPProto.TCP, IPProto.UDP),
      (seg, addrs, newAddr, newSeq, proto) => {
        const b = new Uint8Array(32 + seg.length);
        b.set(addrs, 0);
        b.set(seg, 32);
        let c = setTransportChecksumIPv6(b, 32, seg.length, proto, 0, 16);
        if (proto === IPProto.TCP) {
          const oldSeq = ((b[36] << 24) | (b[37] << 16) | (b[38] << 8) | b[39]) >>> 0;
          c = checksumAdjust32(c, oldSeq, newSeq);
          b[36] = newSeq >>> 24;
          b[37] = (newSeq >>> 16) & 0xff;
          b[38] = (newSeq >>> 8) & 0xff;
          b[39] = newSeq & 0xff;
          c = checksumAdjustBytes(c, b, 16, newAddr, 0, 16);
        } else {
          c = udpChecksumAdjustBytes(c, b, 16, newAddr, 0, 16);
        }
        b.set(newAddr, 16);
        assert.equal(c, setTransportChecksumIPv6(b, 32, seg.length, proto, 0, 16));
      },
    ),
  );
});
