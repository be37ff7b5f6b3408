import assert from 'node:assert/strict';
import test from 'node:test';
import { ipv4Packet, ipv6Packet } from '../../test/support/wg-device-harness.js';
import { matchFilter, PacketFacts, parseFilter } from './filter-expr.js';

/** An IPv4 packet of protocol `proto` with ports (for TCP/UDP). */
function v4(src: string, dst: string, proto: number, sport = 0, dport = 0): Uint8Array {
  const p = ipv4Packet(src, dst, 'xxxxxxxxxxxxxxxx');
  p[9] = proto;
  p[20] = sport >> 8;
  p[21] = sport & 0xff;
  p[22] = dport >> 8;
  p[23] = dport & 0xff;
  return p;
}

function matches(expr: string, pkt: Uint8Array): boolean {
  const f = new PacketFacts();
  const tree = parseFilter(expr);
  assert.ok(tree !== null);
  return f.load(pkt, 0, pkt.length) && matchFilter(tree, f);
}

test('primitives: host, net, port (with src/dst), tcp, udp, icmp', () => {
  const tcp = v4('10.0.0.1', '10.1.2.3', 6, 40000, 443);
  assert.ok(matches('host 10.0.0.1', tcp));
  assert.ok(matches('host 10.1.2.3', tcp));
  assert.ok(!matches('host 10.0.0.9', tcp));
  assert.ok(matches('src host 10.0.0.1', tcp));
  assert.ok(!matches('dst host 10.0.0.1', tcp));
  assert.ok(matches('net 10.1.0.0/16', tcp));
  assert.ok(matches('net 10.1.2.0/23', tcp));
  assert.ok(!matches('net 10.2.0.0/16', tcp));
  assert.ok(matches('port 443', tcp));
  assert.ok(matches('dst port 443', tcp));
  assert.ok(!matches('src port 443', tcp));
  assert.ok(matches('tcp', tcp));
  assert.ok(!matches('udp', tcp));
  assert.ok(matches('icmp', v4('10.0.0.1', '10.0.0.2', 1)));
  assert.ok(!matches('port 0', v4('10.0.0.1', '10.0.0.2', 1)), 'ICMP has no ports');
  const six = ipv6Packet('fd00::1', 'fd00::2', 'abcdefgh');
  assert.ok(matches('host fd00::2', six));
  assert.ok(matches('net fd00::/64', six));
  assert.ok(!matches('host 10.0.0.1', six));
  assert.ok(!matches('net 0.0.0.0/0', six), 'an IPv4 prefix never matches IPv6');
});

test('and, or, not and parentheses, with precedence (and binds tighter)', () => {
  const udp = v4('10.0.0.1', '10.0.0.2', 17, 5353, 53);
  assert.ok(matches('udp and port 53', udp));
  assert.ok(!matches('tcp and port 53', udp));
  assert.ok(matches('tcp or port 53', udp));
  assert.ok(matches('not tcp', udp));
  assert.ok(matches('tcp and port 1 or udp', udp), '(tcp and port 1) or udp');
  assert.ok(!matches('tcp and (port 1 or udp)', udp));
  assert.ok(matches('! tcp && (host 10.0.0.2 || host 10.9.9.9)', udp));
});

test('bad expressions are refused with the word at fault', () => {
  const bad: Array<[string, RegExp]> = [
    ['host', /"host" needs a value/],
    ['host 10.0.0.300', /host "10\.0\.0\.300" is not an IP address/],
    ['net 10.0.0.0', /needs a prefix length/],
    ['net 10.0.0.0/33', /not an IP prefix/],
    ['port 70000', /port "70000" must be an integer in \[0, 65535\]/],
    ['tcp and', /expected a primitive .* at the end/],
    ['(tcp', /expected "\)" at the end/],
    ['tcp)', /unexpected "\)" \(word 2\)/],
    ['gre', /expected host, net, port, tcp, udp or icmp at "gre" \(word 1\)/],
    ['src tcp', /expected host, net, port/],
  ];
  for (const [expr, re] of bad) assert.throws(() => parseFilter(expr), (e: Error & { code: string }) => e.code === 'FERRY_INVALID_ARGUMENT' && re.test(e.message), expr);
  assert.equal(parseFilter('  '), null);
});

test('not an IP packet, or truncated: no match, no throw', () => {
  const f = new PacketFacts();
  assert.equal(f.load(new Uint8Array([0x45, 0, 0]), 0, 3), false);
  assert.equal(f.load(new Uint8Array([0x10]), 0, 1), false);
  const tcp = v4('10.0.0.1', '10.0.0.2', 6, 1, 2);
  assert.ok(f.load(tcp, 0, 22));
  assert.equal(f.ports, -1, 'ports past the end are not read');
});
