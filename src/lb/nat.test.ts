import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { setTransportChecksumIPv4, setTransportChecksumIPv6 } from '../packet/checksum.js';
import { IPProto } from '../packet/constants.js';
import { setIPv4HeaderChecksum } from '../packet/ipv4.js';
import { rewriteTuple } from './nat.js';
import { packet } from '../../test/support/lb-packets.js';

function v4(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

const addr4 = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 })).map((a) => a.join('.'));
const addr6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => ['fd00', ...g.slice(1).map((x) => x.toString(16))].join(':'));
const port = fc.integer({ min: 1, max: 65535 });
const payload = fc.uint8Array({ maxLength: 64 });

/** The same rewrite done by hand and re-summed from scratch. */
function recomputed(p: Uint8Array, family: 4 | 6, proto: number, addrs: Uint8Array, sport: number, dport: number, zeroUdp: boolean): Uint8Array {
  const q = Uint8Array.from(p);
  const ip = family === 4 ? 20 : 40;
  const alen = family === 4 ? 4 : 16;
  q.set(addrs.subarray(0, alen), family === 4 ? 12 : 8);
  q.set(addrs.subarray(16, 16 + alen), family === 4 ? 16 : 24);
  q[ip] = sport >> 8;
  q[ip + 1] = sport & 0xff;
  q[ip + 2] = dport >> 8;
  q[ip + 3] = dport & 0xff;
  if (family === 4) setIPv4HeaderChecksum(q, 0);
  if (zeroUdp) return q;
  if (family === 4) setTransportChecksumIPv4(q, ip, q.length - ip, proto, v4(q, 12), v4(q, 16));
  else setTransportChecksumIPv6(q, ip, q.length - ip, proto, 8, 24);
  return q;
}

test('incremental NAT (RFC 1624) gives exactly the checksums a full recompute gives: IPv4/IPv6, TCP/UDP', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.boolean(), fc.boolean(), addr4, addr4, addr4, addr4, addr6, addr6, addr6, addr6, port, port, port, port, payload, (six, tcp, zero, a, b, c, d, a6, b6, c6, d6, p1, p2, p3, p4, data) => {
      const family = six ? 6 : 4;
      const proto = tcp ? IPProto.TCP : IPProto.UDP;
      const zeroUdp = !six && !tcp && zero;
      const p = packet({ src: six ? a6 : a, sport: p1, dst: six ? b6 : b, dport: p2, proto: tcp ? 'tcp' : 'udp', payload: data, zeroChecksum: zeroUdp });
      const addrs = new Uint8Array(32);
      const fill = (text: string, at: number) => {
        const t = packet({ src: text, sport: 1, dst: text, dport: 1, proto: 'udp' });
        addrs.set(t.subarray(six ? 8 : 12, six ? 24 : 16), at);
      };
      fill(six ? c6 : c, 0);
      fill(six ? d6 : d, 16);
      const want = recomputed(p, family, proto, addrs, p3, p4, zeroUdp);
      const ip = six ? 40 : 20;
      rewriteTuple(p, 0, family, proto, ip, p.length - ip, addrs, 0, p3, 16, p4);
      assert.deepEqual(p, want);
    }),
    { numRuns: 2000, seed: 1624 },
  );
});

test('a rewrite to the same tuple changes nothing, and a cut-short quote keeps what it has', () => {
  const p = packet({ src: '10.0.0.1', sport: 1000, dst: '10.0.0.2', dport: 80, proto: 'tcp', payload: 'x' });
  const same = Uint8Array.from(p);
  const addrs = new Uint8Array(32);
  addrs.set(p.subarray(12, 16), 0);
  addrs.set(p.subarray(16, 20), 16);
  rewriteTuple(same, 0, 4, IPProto.TCP, 20, same.length - 20, addrs, 0, 1000, 16, 80);
  assert.deepEqual(same, p);
  // Only 8 bytes of TCP quoted: ports change, the (absent) checksum is not touched, nothing past the end is written.
  const cut = new Uint8Array(40);
  cut.set(p.subarray(0, 28));
  addrs[3] = 9;
  rewriteTuple(cut, 0, 4, IPProto.TCP, 20, 8, addrs, 0, 2000, 16, 81);
  assert.deepEqual([cut[15], (cut[20] << 8) | cut[21], (cut[22] << 8) | cut[23]], [9, 2000, 81]);
  assert.deepEqual(cut.subarray(28), new Uint8Array(12));
});
