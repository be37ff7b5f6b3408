import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason } from '../stats/drop-reasons.js';
import { IPParseFlag, IPProto, IPv4Flag } from './constants.js';
import { ipv4FromString, ipv6FromString, ipv6ToString } from './format.js';
import { IPPacket, ipDestinationOffset, ipSourceOffset, ipVersion, parseIP, readIPv4Address } from './ip.js';
import { writeIPv4Header } from './ipv4.js';
import { writeIPv6Header } from './ipv6.js';

function v4Packet(at: number, flags = 0): Uint8Array {
  const b = new Uint8Array(at + 48);
  writeIPv4Header(b, at, 48, IPProto.TCP, ipv4FromString('10.0.0.1'), ipv4FromString('10.0.0.2'), 64, 7, flags);
  return b;
}

function v6Packet(at: number): Uint8Array {
  const b = new Uint8Array(at + 60);
  const a = new Uint8Array(32);
  ipv6FromString('fd00::1', a, 0);
  ipv6FromString('fd00::2', a, 16);
  writeIPv6Header(b, at, 20, IPProto.UDP, a, 0, a, 16);
  return b;
}

test('ipVersion reads the nibble and requires the fixed header', () => {
  assert.equal(ipVersion(v4Packet(0), 0, 48), 4);
  assert.equal(ipVersion(v4Packet(0), 0, 20), 4);
  assert.equal(ipVersion(v4Packet(0), 0, 19), 0);
  assert.equal(ipVersion(v6Packet(3), 3, 60), 6);
  assert.equal(ipVersion(v6Packet(0), 0, 39), 0);
  const b = v4Packet(0);
  b[0] = 0x55;
  assert.equal(ipVersion(b, 0, 48), 0);
  assert.equal(ipVersion(b, 40, 20), 0, 'range past the buffer');
  assert.equal(ipVersion(b, -1, 20), 0);
});

test('address offsets for routing', () => {
  const b4 = v4Packet(5);
  assert.equal(readIPv4Address(b4, ipDestinationOffset(b4, 5, 48)), ipv4FromString('10.0.0.2'));
  assert.equal(readIPv4Address(b4, ipSourceOffset(b4, 5, 48)), ipv4FromString('10.0.0.1'));
  const b6 = v6Packet(2);
  assert.equal(ipv6ToString(b6, ipDestinationOffset(b6, 2, 60)), 'fd00::2');
  assert.equal(ipv6ToString(b6, ipSourceOffset(b6, 2, 60)), 'fd00::1');
  assert.equal(ipDestinationOffset(b6, 2, 10), -1);
  assert.equal(ipSourceOffset(b6, 2, 10), -1);
});

test('parseIP fills one view for either version', () => {
  const p = new IPPacket();
  const b4 = v4Packet(5);
  assert.equal(parseIP(b4, 5, 48, p, IPParseFlag.VerifyChecksum), DropReason.None);
  assert.deepEqual(
    [p.version, p.protocol, p.payloadOffset, p.payloadLength, p.totalLength, p.srcOffset, p.dstOffset, p.addressLength, p.isFragment, p.hasTransportHeader],
    [4, IPProto.TCP, 25, 28, 48, 17, 21, 4, false, true],
  );
  assert.equal(p.v4.identification, 7);
  const b6 = v6Packet(2);
  assert.equal(parseIP(b6, 2, 60, p), DropReason.None);
  assert.deepEqual(
    [p.version, p.protocol, p.payloadOffset, p.payloadLength, p.totalLength, p.srcOffset, p.dstOffset, p.addressLength],
    [6, IPProto.UDP, 42, 20, 60, 10, 26, 16],
  );
});

test('parseIP passes on version-specific drops and flags', () => {
  const p = new IPPacket();
  assert.equal(parseIP(new Uint8Array(0), 0, 0, p), DropReason.Truncated);
  assert.equal(parseIP(new Uint8Array([0x75]), 0, 1, p), DropReason.BadVersion);
  assert.equal(p.version, 0);
  assert.equal(parseIP(v4Packet(0), 0, 19, p), DropReason.Truncated);
  assert.equal(parseIP(v6Packet(0), 0, 59, p), DropReason.BadTotalLength);
  const frag = v4Packet(0, IPv4Flag.MoreFragments);
  assert.equal(parseIP(frag, 0, 48, p), DropReason.None);
  assert.equal(p.isFragment, true);
  assert.equal(parseIP(frag, 0, 48, p, IPParseFlag.RejectFragments), DropReason.Fragment);
  const bad = v4Packet(0);
  bad[8] ^= 1;
  assert.equal(parseIP(bad, 0, 48, p, IPParseFlag.VerifyChecksum), DropReason.BadChecksum);
  assert.equal(p.version, 0, 'a failed parse leaves no version behind');
});
