import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import test from 'node:test';
import { requireTools } from '../../test/support/netns.js';
import { ipv4Packet } from '../../test/support/wg-device-harness.js';
import { readPcapng } from './pcapng-read.js';
import { EPB_INBOUND, EPB_OUTBOUND, LINKTYPE_RAW, SECRETS_WIREGUARD, writeDecryptionSecrets, writeEnhancedPacket, writeInterfaceDescription, writeSectionHeader } from './pcapng.js';

const enc = new TextEncoder();

/** A small file: header, two interfaces, a secrets block, two packets. */
function sample(): { bytes: Uint8Array; pkt: Uint8Array } {
  const buf = new Uint8Array(4096);
  const pkt = ipv4Packet('10.0.0.1', '10.0.0.2', 'hello capture');
  let p = writeSectionHeader(buf, 0, 'ferry test');
  p = writeInterfaceDescription(buf, p, 'tun', 'wg0 tun: what the host sent', 65535);
  p = writeInterfaceDescription(buf, p, 'drop', 'wg0 drop', 65535);
  const secrets = enc.encode('LOCAL_STATIC_PRIVATE_KEY = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n');
  p = writeDecryptionSecrets(buf, p, SECRETS_WIREGUARD, secrets, 0, secrets.length);
  const comment = enc.encode('plane=wireguard reason=no_route');
  p = writeEnhancedPacket(buf, p, 0, 1_700_000_000_123_456, pkt, 0, pkt.length, pkt.length, EPB_OUTBOUND, comment, 0, 0);
  p = writeEnhancedPacket(buf, p, 1, 1_700_000_000_223_456, pkt, 0, 21, pkt.length, EPB_INBOUND, comment, 0, comment.length);
  return { bytes: buf.slice(0, p), pkt };
}

test('pcapng blocks read back: section, interfaces with name and description, secrets, packets with flags and comment', () => {
  const { bytes, pkt } = sample();
  const c = readPcapng(bytes);
  assert.equal(c.trailing, 0);
  assert.deepEqual(c.order, ['shb', 'idb', 'idb', 'dsb', 'epb', 'epb']);
  assert.deepEqual(c.userAppl, ['ferry test']);
  assert.deepEqual(c.interfaces, [
    { linktype: LINKTYPE_RAW, snaplen: 65535, name: 'tun', description: 'wg0 tun: what the host sent' },
    { linktype: LINKTYPE_RAW, snaplen: 65535, name: 'drop', description: 'wg0 drop' },
  ]);
  assert.equal(c.secrets[0].type, 0x57474b4c);
  assert.match(new TextDecoder().decode(c.secrets[0].data), /^LOCAL_STATIC_PRIVATE_KEY = A+=\n$/);
  assert.equal(c.packets[0].timestampUs, 1_700_000_000_123_456);
  assert.deepEqual(c.packets[0].data, pkt);
  assert.equal(c.packets[0].flags, EPB_OUTBOUND);
  assert.equal(c.packets[0].comment, '');
  assert.equal(c.packets[1].data.length, 21, 'cut at the caplen');
  assert.equal(c.packets[1].origLen, pkt.length);
  assert.equal(c.packets[1].comment, 'plane=wireguard reason=no_route');
  // A cut stream stops at the last whole block.
  assert.equal(readPcapng(bytes.subarray(0, bytes.length - 3)).packets.length, 1);
});

test('a block that does not fit is not written', () => {
  const small = new Uint8Array(40);
  const pkt = new Uint8Array(100);
  assert.equal(writeEnhancedPacket(small, 0, 0, 0, pkt, 0, 100, 100, 0, pkt, 0, 0), -1);
  assert.ok(small.every((b) => b === 0));
  assert.equal(writeDecryptionSecrets(small, 0, SECRETS_WIREGUARD, pkt, 0, 30), -1);
});

test('tshark reads the file: interface names, direction, comments, the IP packet inside', (t) => {
  if (!requireTools(t, ['tshark'])) return;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-pcapng-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'sample.pcapng');
  writeFileSync(file, sample().bytes);
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'frame.p2p_dir', '-e', 'frame.comment', '-e', 'ip.src', '-e', 'ip.dst'], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  });
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 2, out);
  assert.match(lines[0], /^tun\|[^|]*\|\|10\.0\.0\.1\|10\.0\.0\.2$/);
  assert.match(lines[1], /^drop\|[^|]*\|plane=wireguard reason=no_route\|10\.0\.0\.1\|/);
});
