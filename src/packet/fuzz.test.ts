/**
 * Untrusted input never throws: every parser, on arbitrary bytes and arbitrary
 * offset/length (negative, fractional, NaN, past the end), returns a drop reason; on
 * success, everything it reports lies inside the range it was given. Builders fed
 * arbitrary "offending packets" never throw and never write outside their output range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DROP_REASON_COUNT, DropReason } from '../stats/drop-reasons.js';
import { ARPPacket, parseARP } from './arp.js';
import { IPParseFlag, IPProto } from './constants.js';
import { EthernetHeader, parseEthernet } from './ethernet.js';
import { hexToBytes } from './format.js';
import { ICMPHeader, parseICMP } from './icmp.js';
import { writeICMPv4Error, writeICMPv6Error } from './icmp-error.js';
import { IPPacket, ipDestinationOffset, ipVersion, parseIP } from './ip.js';
import { IPv4Header, parseIPv4 } from './ipv4.js';
import { IPv6Header, parseIPv6 } from './ipv6.js';
import { parseTCP, TCPHeader } from './tcp.js';
import { parseUDP, UDPHeader } from './udp.js';

const weird = fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 31, 2 ** 32 + 1, 2 ** 53, -1);
const offLen = (max: number) => fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -4, max: max + 4 }) }, { weight: 1, arbitrary: weird });

const views = {
  v4: new IPv4Header(),
  v6: new IPv6Header(),
  ip: new IPPacket(),
  udp: new UDPHeader(),
  tcp: new TCPHeader(),
  icmp: new ICMPHeader(),
  eth: new EthernetHeader(),
  arp: new ARPPacket(),
};

function isReason(r: number): void {
  assert.ok(Number.isInteger(r) && r >= 0 && r < DROP_REASON_COUNT, `not a drop reason: ${r}`);
}

function inside(x: number, off: number, len: number): void {
  assert.ok(x >= off && x <= off + len, `${x} outside [${off}, ${off + len}]`);
}

/** Runs every parser on one range and checks the success postconditions. */
function parseAll(b: Uint8Array, off: number, len: number, flags: number): void {
  let r = parseIPv4(b, off, len, views.v4, flags);
  isReason(r);
  if (r === DropReason.None) {
    inside(views.v4.payloadOffset + views.v4.payloadLength, off, len);
    assert.ok(views.v4.headerLength >= 20 && views.v4.payloadLength >= 0);
  }
  r = parseIPv6(b, off, len, views.v6, flags);
  isReason(r);
  if (r === DropReason.None) {
    inside(views.v6.payloadOffset, off + 40, len - 40);
    inside(views.v6.payloadOffset + views.v6.payloadLength, off, len);
    assert.ok(views.v6.payloadLength >= 0 && views.v6.extensionCount <= 8);
  }
  r = parseIP(b, off, len, views.ip, flags);
  isReason(r);
  if (r === DropReason.None) inside(views.ip.payloadOffset + views.ip.payloadLength, off, len);
  const v = ipVersion(b, off, len);
  assert.ok(v === 0 || v === 4 || v === 6);
  const d = ipDestinationOffset(b, off, len);
  assert.ok(d === -1 || (d >= off && d + (v === 4 ? 4 : 16) <= off + len));
  r = parseUDP(b, off, len, views.udp);
  isReason(r);
  if (r === DropReason.None) inside(views.udp.payloadOffset + views.udp.payloadLength, off, len);
  r = parseTCP(b, off, len, views.tcp);
  isReason(r);
  if (r === DropReason.None) inside(views.tcp.payloadOffset + views.tcp.payloadLength, off, len);
  r = parseICMP(b, off, len, views.icmp);
  isReason(r);
  if (r === DropReason.None) inside(views.icmp.payloadOffset + views.icmp.payloadLength, off, len);
  r = parseEthernet(b, off, len, views.eth);
  isReason(r);
  if (r === DropReason.None) inside(views.eth.payloadOffset + views.eth.payloadLength, off, len);
  r = parseARP(b, off, len, views.arp);
  isReason(r);
  if (r === DropReason.None) inside(views.arp.targetMacOffset + 6, off, len);
}

test('arbitrary bytes with arbitrary offset and length never throw', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), offLen(200), offLen(200), fc.nat(3), (b, off, len, flags) => {
      parseAll(b, off, len, flags);
    }),
    { numRuns: 3000 },
  );
});

test('arbitrary bytes behind a plausible first byte (v4 / v6 / ext chains) never throw', () => {
  const first = fc.constantFrom(0x45, 0x46, 0x4f, 0x40, 0x60, 0x6f);
  fc.assert(
    fc.property(first, fc.uint8Array({ minLength: 19, maxLength: 160 }), fc.nat(8), (b0, rest, extra) => {
      const b = new Uint8Array(1 + rest.length + extra);
      b[0] = b0;
      b.set(rest, 1);
      // Make the length fields plausible now and then, so deep paths are reached.
      if (rest.length > 5 && (rest[0] & 1) === 1) {
        const total = 1 + rest.length;
        if (b0 >>> 4 === 4) {
          b[2] = total >>> 8;
          b[3] = total & 0xff;
        } else {
          b[4] = (total - 40) >>> 8;
          b[5] = (total - 40) & 0xff;
        }
      }
      for (const flags of [0, IPParseFlag.VerifyChecksum | IPParseFlag.RejectFragments]) parseAll(b, 0, b.length, flags);
    }),
    { numRuns: 3000 },
  );
});

const SEED_PACKETS = [
  // captured MLDv2 report with hop-by-hop (IPv6 part)
  '600000000024000100000000000000000000000000000000ff0200000000000000000000000000163a000502000001008f00da9f0000000104000000ff0200000000000000000001ff819469',
  // captured ICMPv4 echo request (IPv4 part)
  '45000054cd334000400158d90a4d00010a4d0002080044c20ae60001c115026b000000001f0307000000000010111213' +
    '1415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
];

test('mutated real packets: the whole parse pipeline never throws', () => {
  const seeds = SEED_PACKETS.map((h) => hexToBytes(h));
  fc.assert(
    fc.property(
      fc.constantFrom(...seeds),
      fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.integer({ min: 0, max: 100 }),
      (seed, edits, cut) => {
        const b = seed.slice();
        for (const [at, v] of edits) b[at % b.length] = v;
        const len = Math.max(0, b.length - (cut % 8 === 0 ? cut % b.length : 0));
        const ip = views.ip;
        const r = parseIP(b, 0, len, ip, IPParseFlag.VerifyChecksum);
        isReason(r);
        if (r !== DropReason.None) return;
        if (ip.protocol === IPProto.UDP) isReason(parseUDP(b, ip.payloadOffset, ip.payloadLength, views.udp));
        if (ip.protocol === IPProto.TCP) isReason(parseTCP(b, ip.payloadOffset, ip.payloadLength, views.tcp));
        isReason(parseICMP(b, ip.payloadOffset, ip.payloadLength, views.icmp));
      },
    ),
    { numRuns: 3000 },
  );
});

test('ICMP error builders on arbitrary packets never throw nor write outside [outOff, outOff + outCap)', () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 120 }),
      offLen(120),
      offLen(120),
      fc.integer({ min: -4, max: 100 }),
      fc.integer({ min: -4, max: 140 }),
      fc.boolean(),
      (orig, origOff, origLen, outOff, outCap, v6) => {
        if (orig.length > 0) orig[0] = v6 ? 0x60 | (orig[0] & 0xf) : 0x40 | (orig[0] & 0xf);
        const out = new Uint8Array(200).fill(0xa5);
        const src = new Uint8Array(16).fill(0x20);
        const n = v6
          ? writeICMPv6Error(out, outOff, outCap, 2, 0, 1280, src, 0, orig, origOff, origLen)
          : writeICMPv4Error(out, outOff, outCap, 3, 4, 1400, 0x0a000001, orig, origOff, origLen);
        assert.ok(Number.isInteger(n) && n >= 0);
        if (n === 0) {
          assert.ok(out.every((x) => x === 0xa5), 'nothing written on refusal');
          return;
        }
        assert.ok(n <= outCap);
        for (let i = 0; i < out.length; i++) if (i < outOff || i >= outOff + outCap) assert.equal(out[i], 0xa5, `byte ${i} written`);
        const p = views.ip;
        assert.equal(parseIP(out, outOff, n, p, IPParseFlag.VerifyChecksum), DropReason.None);
        assert.equal(p.protocol, v6 ? IPProto.ICMPv6 : IPProto.ICMP);
      },
    ),
    { numRuns: 3000 },
  );
});
