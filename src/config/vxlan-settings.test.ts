import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveVtepMac } from '../vxlan/vtep-mac.js';
import { isConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { stripConfig } from './strip.js';
import { vxlanSettings } from './vxlan-settings.js';
import { formatPrefix } from '../text/prefix.js';

const ISSUE_EXAMPLE = `[Interface]
Address = 10.244.1.0/32
MTU = 1450

[FerryVxlan]
VNI = 1
Port = 8472
Local = 192.0.2.1
VtepMAC = 02:a1:b2:c3:d4:e5
Learning = false

[FerryVxlanPeer]
Remote = 192.0.2.2
VtepMAC = 02:00:00:00:00:02
Subnets = 10.244.2.0/24
`;

const hex = (m: Uint8Array) => [...m].map((b) => b.toString(16).padStart(2, '0')).join(':');

/** Every error of a file, parse time or settings time, as "line: message". */
function errors(text: string): string[] {
  try {
    const c = parseConfig(text, { file: 'flannel1.conf' });
    vxlanSettings(c, { ifname: 'flannel1', hostId: 'h' });
  } catch (err) {
    if (isConfigError(err)) return err.errors.map((e) => `${e.line}: ${e.message}`);
    throw err;
  }
  return [];
}

test('the issue\'s example: a VXLAN-only interface with one flannel peer', () => {
  const c = parseConfig(ISSUE_EXAMPLE, { file: 'flannel1.conf' });
  assert.equal(c.interface.privateKey, null);
  const s = vxlanSettings(c, { ifname: 'flannel1', hostId: 'h' })!;
  assert.equal(s.mode, 'l3');
  assert.equal(s.vni, 1);
  assert.equal(s.port, 8472);
  assert.equal(s.local, '192.0.2.1');
  assert.equal(hex(s.vtepMac), '02:a1:b2:c3:d4:e5');
  assert.equal(s.vtepMacDerived, false);
  assert.equal(s.learning, false);
  assert.equal(s.underlayFamily, 4);
  assert.equal(s.line, 5);
  assert.equal(s.peers.length, 1);
  const p = s.peers[0];
  assert.deepEqual([p.remote, p.family, hex(p.vtepMac!), p.subnets.map(formatPrefix), p.line], ['192.0.2.2', 4, '02:00:00:00:00:02', ['10.244.2.0/24'], 12]);
});

test('defaults: VNI 1, port 8472, any local address, L3, a stable derived MAC; no [FerryVxlan] is no VXLAN', () => {
  const text = '[FerryVxlan]\n\n[FerryVxlanPeer]\nRemote = 2001:db8::2\nVtepMAC = 02:00:00:00:00:02\nSubnets = 10.244.2.0/24, fd00:2::/64\n';
  const s = vxlanSettings(parseConfig(text), { ifname: 'flannel1', hostId: 'host-a' })!;
  assert.deepEqual([s.vni, s.port, s.local, s.mode, s.vtepMacDerived, s.underlayFamily], [1, 8472, null, 'l3', true, 6]);
  assert.deepEqual(s.vtepMac, deriveVtepMac('host-a', 'flannel1', 1));
  assert.deepEqual(s.peers[0].subnets.map(formatPrefix), ['10.244.2.0/24', 'fd00:2::/64']);
  assert.equal(vxlanSettings(parseConfig('[Interface]\nAddress = 10.0.0.1/24\n'), { ifname: 'x' }), null);
  const lower = vxlanSettings(parseConfig('[ferryvxlan]\nvni = 4096\nport = 4789\nmode = L3\n'), { ifname: 'x', hostId: 'h' })!;
  assert.deepEqual([lower.vni, lower.port, lower.mode], [4096, 4789, 'l3']);
});

test('a derived VTEP MAC is unicast, locally administered, and changes with host, interface and VNI only', () => {
  const m = deriveVtepMac('host-a', 'flannel1', 1);
  assert.equal(m[0] & 1, 0, 'unicast');
  assert.equal(m[0] & 2, 2, 'locally administered');
  assert.deepEqual(deriveVtepMac('host-a', 'flannel1', 1), m, 'stable');
  for (const other of [deriveVtepMac('host-b', 'flannel1', 1), deriveVtepMac('host-a', 'flannel2', 1), deriveVtepMac('host-a', 'flannel1', 2)]) assert.notDeepEqual(other, m);
});

test('bad values are rejected with file:line, every one of them', () => {
  const text = [
    '[FerryVxlan]', // 1
    'VNI = 16777216', // 2
    'Port = 0', // 3
    'Local = 192.0.2.1:8472', // 4
    'VtepMAC = 01:00:5e:00:00:01', // 5
    'Learning = yes', // 6
    'Mode = l4', // 7
    '[FerryVxlanPeer]', // 8
    'Remote = node-b', // 9
    'VtepMAC = 02:00:00:00:00', // 10
    'Subnets = 10.244.2.1/24,', // 11
    '[FerryVxlanPeer]', // 12
    'VtepMAC = 00:00:00:00:00:00', // 13
    'Subnets = 10.244.3.0/33', // 14
    'Color = blue', // 15
  ].join('\n');
  assert.deepEqual(errors(text), [
    '2: VNI "16777216" is invalid: expected a number 0-16777215',
    '3: Port "0" is invalid: expected a port 1-65535 (8472 as Linux and flannel, 4789 as IANA)',
    '4: Local "192.0.2.1:8472" is not an IP address: expected an IPv4 or IPv6 address without a port',
    '5: VtepMAC "01:00:5e:00:00:01" is a group (multicast) address: expected a unicast MAC',
    '6: Learning "yes" is not a boolean: expected true or false',
    '7: Mode "l4" is invalid: expected l3 (a TUN, flannel.1\'s role) or l2 (a TAP)',
    '9: Remote "node-b" is not an IP address: expected an IPv4 or IPv6 address without a port',
    '10: VtepMAC "02:00:00:00:00" is not a MAC address: expected six hex pairs like 02:a1:b2:c3:d4:e5',
    '11: Subnets entry "10.244.2.1/24" has host bits set: expected 10.244.2.0/24',
    '15: unknown key "Color" in [FerryVxlanPeer]: expected one of Remote, VtepMAC, Subnets',
  ]);
  assert.deepEqual(errors('[FerryVxlan]\n[FerryVxlanPeer]\nVtepMAC = 00:00:00:00:00:00\nSubnets = 10.244.3.0/33\n'), [
    '2: [FerryVxlanPeer] has no Remote: expected the peer\'s underlay address',
    '3: VtepMAC "00:00:00:00:00:00" is all zero: expected a unicast MAC',
    '4: Subnets entry "10.244.3.0/33" has a bad prefix length: expected 0-32',
  ]);
  assert.deepEqual(errors('[FerryVxlan]\n[FerryVxlanPeer]\nRemote = 192.0.2.2\nSubnets = 10.244.2.0/24,\n'), ['4: Subnets has an empty entry: expected a comma-separated list of ADDRESS/PREFIX']);
  assert.deepEqual(errors('[FerryVxlan]\nLearning = true\n'), ['2: Learning applies to Mode = l2 only: an L3 VTEP (the default mode) has static peers']);
  assert.deepEqual(errors('[FerryVxlan]\nVNI = 1\n[FerryVxlan]\nVNI = 2\n'), ['3: [FerryVxlan] is given twice (first at line 1): expected one [FerryVxlan] section']);
});

test('what spans sections: peers without [FerryVxlan], shared remotes, MACs and subnets, mixed families, what a mode needs', () => {
  assert.deepEqual(errors('[Interface]\nAddress = 10.0.0.1/32\n[FerryVxlanPeer]\nRemote = 192.0.2.2\n'), ['3: [FerryVxlanPeer] without [FerryVxlan]: expected a [FerryVxlan] section in the same file']);
  const text = [
    '[FerryVxlan]', // 1
    'Local = 192.0.2.1', // 2
    'VtepMAC = 02:00:00:00:00:01', // 3
    '[FerryVxlanPeer]', // 4
    'Remote = 192.0.2.2', // 5
    'VtepMAC = 02:00:00:00:00:02', // 6
    'Subnets = 10.244.2.0/24', // 7
    '[FerryVxlanPeer]', // 8
    'Remote = 192.0.2.2', // 9
    'VtepMAC = 02:00:00:00:00:02', // 10
    'Subnets = 10.244.2.0/24', // 11
    '[FerryVxlanPeer]', // 12
    'Remote = 2001:db8::3', // 13
    'VtepMAC = 02:00:00:00:00:01', // 14
    '[FerryVxlanPeer]', // 15
    'Remote = 192.0.2.4', // 16
  ].join('\n');
  assert.deepEqual(errors(text), [
    '9: Remote 192.0.2.2 is already the peer at line 4: expected one [FerryVxlanPeer] per remote VTEP',
    '10: VtepMAC 02:00:00:00:00:02 is already the peer at line 4\'s: expected one MAC per VTEP',
    '11: Subnets entry 10.244.2.0/24 is already the peer at line 4\'s: expected each subnet once',
    '12: [FerryVxlanPeer] has no Subnets: an L3 VTEP peer needs the inner prefixes it owns',
    '13: Remote 2001:db8::3 is IPv6 but Local 192.0.2.1 (line 2) is IPv4: expected one underlay family',
    '14: VtepMAC 02:00:00:00:00:01 is this interface\'s own VTEP MAC: expected the peer\'s',
    '15: [FerryVxlanPeer] has no VtepMAC: an L3 VTEP peer needs its VTEP MAC (flannel\'s VtepMAC)',
    '15: [FerryVxlanPeer] has no Subnets: an L3 VTEP peer needs the inner prefixes it owns',
  ]);
  assert.deepEqual(errors('[FerryVxlan]\nMode = l2\n[FerryVxlanPeer]\nRemote = 192.0.2.2\nSubnets = 10.244.2.0/24\n'), ['5: Subnets applies to Mode = l3 only: an L2 VTEP carries frames, not routes']);
  const l2 = vxlanSettings(parseConfig('[FerryVxlan]\nMode = l2\nLearning = true\n[FerryVxlanPeer]\nRemote = 192.0.2.2\n'), { ifname: 'x', hostId: 'h' })!;
  assert.deepEqual([l2.mode, l2.learning, l2.peers[0].vtepMac, l2.peers[0].subnets], ['l2', true, null, []]);
});

test('ferry strip leaves the VXLAN sections out', () => {
  const stripped = stripConfig(parseConfig(`[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n\n${ISSUE_EXAMPLE.split('\n').slice(4).join('\n')}`));
  assert.doesNotMatch(stripped, /Vxlan|VtepMAC|Subnets/);
  assert.match(stripped, /PrivateKey/);
});
