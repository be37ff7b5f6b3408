import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { DropReason } from '../stats/drop-reasons.js';
import { MESSAGE_TRANSPORT_MIN_SIZE, MessageType, TRANSPORT_OFFSET_COUNTER } from './constants.js';
import { CookieChecker, CookieGenerator } from './cookie.js';
import { aeadOpen, initCrypto } from './crypto.js';
import { readU32LE } from './messages.js';
import { createStaticIdentity, Handshake, type StaticIdentity } from './handshake.js';
import { ConsumedInitiation, consumeInitiation, consumeResponse, createInitiation, createResponse, deriveKeypair } from './noise.js';

/*
 * A transcript recorded from a real wireguard-go (Debian's 0.0.20220316) talking to this code.
 * How it was made: a network namespace held a wireguard-go interface (private key 0x48 x32,
 * listen port 51820, address 10.99.0.1/24, peer = ferry's key 0x68 x32, allowed-ips 10.99.0.2/32,
 * endpoint 127.0.0.1:51821); a script in the same namespace used noise.ts/cookie.ts on a UDP
 * socket at 127.0.0.1:51821.
 *  A. ferry initiates (psk 0x5a x32, ephemeral 0x70 x32, stamp 2025-01-01T12:00:00.123Z), takes
 *     wireguard-go's response, sends an ICMP echo request to 10.99.0.1 under the new keys, and
 *     wireguard-go's kernel peer answers: the echo reply comes back sealed by wireguard-go.
 *  B. The peer is re-added without psk and `ping 10.99.0.2` makes wireguard-go initiate. ferry
 *     answers with a cookie reply (as under load); wireguard-go retries 5.3 s later with mac2
 *     set from that cookie; ferry consumes it, responds (ephemeral 0x78 x32), and wireguard-go
 *     sends the queued echo request sealed under the new keys.
 * Everything ferry sent is deterministic (fixed keys), so the test rebuilds it byte for byte;
 * everything wireguard-go sent must authenticate and decrypt. A live run of the same exchange
 * belongs in test/netns (it needs root, wireguard-go and namespaces).
 */
const REC = {
  wgPub: '9177b23278cbf0f3d17c36f2acc9b55e9c85f87b220a5386ec370d663e20e337',
  ferryPub: 'da785d9aa3cdc88c2401760535ad5f436dc83a542e294faaf07fb2253b009416',
  wall: 1735732800123,
  aInitiation:
    '0100000044332211a49eb492bf3c39ee123c3aa7c7a8da3fd51ac9ad058a69a25ee0f72ea1efd176c4ee71bf9f8b32ef469c801915405a50e678f4735bb5feb2b3835064931e0cff45107ba36f2e53cd8d78718b26030c43c47123c7974516f39a74256cb4235bda13b8764a2af2b71e502c55eea65cbef8827d444125489dc5b5d5550400000000000000000000000000000000',
  aResponse:
    '02000000f7b8df7f44332211d7ece14cfab9e05af31e54896fe6ae796270bce5cac8e891111b61a3bf34531ddba4f60e80ab8f8f3537ce06b58b10b093e42e0c4ca8933a0f1496941715443100000000000000000000000000000000',
  aTransportOut:
    '04000000f7b8df7f00000000000000002174067f39af074565f983e9a9f9924a339ea1d19a7b5c46e7904b8f00de44f06c8920e52e5048ec6dddb366f3fcd5406f41386763f7554f0031e563bc6f0c6d',
  aTransportIn:
    '0400000044332211000000000000000077ec7901034ffb279632835c3a558f671d7083dfadb5f8eb64419827cb17115f77214175bb5b6037d6ca152c291849d371da4e6419edcf16231554d5ebd355b5',
  bInitiation1:
    '0100000029ae51fd5ecfcb46577557397078a23ac0f140f1a100498090dd2957b85a40b88c5897544a2c9b3e580b70bbfd0ec8462d47ccf626376d206f367cf3210f894cad662f4a28a1c10d9037679ab8ea8382c918528b098e973e6cb4efdfc36d7e0552fdee5039027264e099aa4f5d66f243ecaefaee282783a4e9781de6a6072d9a00000000000000000000000000000000',
  bCookieReply:
    '0300000029ae51fd121a70c423e49904695c879846bb0966d27ca6aa5b568efbc04bdf1e5c699dc6270eca9d4d0d8f322ca126b54b3c981db9c2c3059d383b0e',
  bInitiation2:
    '01000000e9ff75c5b3cbe8f0577eadb3b257e1c30b1295cb3a05fd98a85273106e64062ab617d45a0c5d1c2bc04ed700a0c2dd5b4d954eea5384fcac27610aab4c42939e7021dddfe4086400230e331d6679358b821791824254003cc696a7cdea214b0a7c2d63ca1bb507cbfa086133086a0f542beb33d8219a19c788756de5abeb084f22d1dd19f1f0c1186c9f0634a04d650c',
  bResponse:
    '0200000088776655e9ff75c59b4ad50baf0346faa5d828c9b2482804ee9c0a3527429a7a92a1d5aa4db3b626961b7776191296adc42e1b3d17b3bcde8d9e00bd669a8ef553646fe9d749adf300000000000000000000000000000000',
  bTransportIn:
    '04000000887766550000000000000000aacf21ab7cc9e8221e7738fa5c3680589d8709e52df5de746defc19b2fdb6d2898a9daae8449e9bf395ebd3771d0629275aba9e2909f3f3f649f46a174054237ade31de46f02763c704ba63588aa2dc5030458db5895811be7422b09cd7b1d4f37914dd8f7c665b65e483aad232687a1',
};

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const filled = (v: number): Uint8Array => new Uint8Array(32).fill(v);

let me: StaticIdentity;
let wgPub: Uint8Array;
before(async () => {
  await initCrypto();
  me = createStaticIdentity(filled(0x68));
  wgPub = createStaticIdentity(filled(0x48)).publicKey;
});

/** Opens a transport message (padded IP packet inside) with a receive key. */
function openTransport(key: Uint8Array, msg: Uint8Array): Uint8Array {
  assert.deepEqual([...msg.subarray(0, 4)], [MessageType.Transport, 0, 0, 0], 'a transport message');
  assert.ok(msg.length >= MESSAGE_TRANSPORT_MIN_SIZE);
  assert.equal(readU32LE(msg, TRANSPORT_OFFSET_COUNTER + 4), 0, 'counter high half');
  const plain = new Uint8Array(msg.length - 32);
  assert.ok(aeadOpen(plain, 0, key, readU32LE(msg, TRANSPORT_OFFSET_COUNTER), msg.subarray(16), new Uint8Array(0)), 'transport message decrypts');
  assert.equal(plain.length % 16, 0, 'padded to 16');
  return plain;
}

/** Checks an IPv4 ICMP echo packet and returns its payload as text. */
function icmpEcho(ip: Uint8Array, src: string, dst: string, type: number): string {
  assert.equal(ip[0], 0x45);
  assert.equal(ip[9], 1, 'ICMP');
  assert.equal(ip.subarray(12, 16).join('.'), src);
  assert.equal(ip.subarray(16, 20).join('.'), dst);
  assert.equal(ip[20], type);
  const total = (ip[2] << 8) | ip[3];
  return Buffer.from(ip.subarray(28, total)).toString('latin1');
}

test('recorded keys are the ones the fixed private keys give', () => {
  assert.equal(toHex(me.publicKey), REC.ferryPub);
  assert.equal(toHex(wgPub), REC.wgPub);
});

test('interop A: ferry initiates (with psk), wireguard-go responds and exchanges data', () => {
  const hs = new Handshake(me, wgPub, filled(0x5a));
  const m1 = new Uint8Array(148);
  assert.equal(createInitiation(hs, REC.wall, 0x11223344, m1, 0, filled(0x70)), DropReason.None);
  new CookieGenerator(wgPub).addMacs(m1, 0, 148, 0);
  assert.equal(toHex(m1), REC.aInitiation, 'ferry rebuilds the initiation wireguard-go accepted');

  const response = hex(REC.aResponse);
  assert.ok(new CookieChecker(me).checkMac1(response, 0, 92), "wireguard-go's mac1 verifies");
  assert.equal(consumeResponse(hs, response, 0, 92), DropReason.None, "wireguard-go's response authenticates");
  const keys = deriveKeypair(hs);
  assert.ok(keys);
  assert.equal(keys.remoteIndex, readU32LE(response, 4));

  const sent = openTransport(keys.sendKey, hex(REC.aTransportOut)); // as wireguard-go opened it
  assert.equal(icmpEcho(sent, '10.99.0.2', '10.99.0.1', 8), 'ferry-interop-a');
  const reply = openTransport(keys.receiveKey, hex(REC.aTransportIn));
  assert.equal(icmpEcho(reply, '10.99.0.1', '10.99.0.2', 0), 'ferry-interop-a', 'wireguard-go sealed the echo reply with our keys');
});

test('interop B: wireguard-go initiates, takes a cookie reply, retries with mac2, completes', () => {
  const checker = new CookieChecker(me);
  const i1 = hex(REC.bInitiation1);
  const i2 = hex(REC.bInitiation2);
  assert.ok(checker.checkMac1(i1, 0, 148));
  assert.ok(checker.checkMac1(i2, 0, 148));

  // Replay wireguard-go's cookie generator with ours: same mac1, same cookie, same mac2.
  const asWireguardGo = new CookieGenerator(me.publicKey);
  const copy1 = Uint8Array.from(i1);
  copy1.fill(0, 116);
  asWireguardGo.addMacs(copy1, 0, 148, 0);
  assert.equal(toHex(copy1), REC.bInitiation1);
  const cookieReply = hex(REC.bCookieReply);
  assert.equal(readU32LE(cookieReply, 4), readU32LE(i1, 4), 'our cookie reply answered the first initiation');
  assert.equal(asWireguardGo.consumeReply(cookieReply, 0, 64, 0), DropReason.None);
  const copy2 = Uint8Array.from(i2);
  copy2.fill(0, 116);
  asWireguardGo.addMacs(copy2, 0, 148, 5_320);
  assert.equal(toHex(copy2.subarray(132)), toHex(i2.subarray(132)), 'wireguard-go computed mac2 from the cookie we sealed');
  assert.equal(toHex(copy2), REC.bInitiation2);

  const hs = new Handshake(me, wgPub, null);
  const lookup = (pk: Uint8Array) => (toHex(pk) === REC.wgPub ? hs : null);
  const got = new ConsumedInitiation();
  assert.equal(consumeInitiation(me, i1, 0, 148, 0, lookup, got), DropReason.None);
  assert.equal(consumeInitiation(me, i2, 0, 148, 5_320, lookup, got), DropReason.None, 'the retry carries a later timestamp');
  assert.equal(consumeInitiation(me, i1, 0, 148, 9_000, lookup, got), DropReason.WgReplayedTimestamp);
  assert.equal(toHex(got.remoteStatic), REC.wgPub);
  const r = new Uint8Array(92);
  assert.equal(createResponse(hs, 0x55667788, r, 0, filled(0x78)), DropReason.None);
  new CookieGenerator(wgPub).addMacs(r, 0, 92, 5_320);
  assert.equal(toHex(r), REC.bResponse, 'ferry rebuilds the response wireguard-go accepted');

  const keys = deriveKeypair(hs);
  assert.ok(keys);
  const data = hex(REC.bTransportIn);
  assert.equal(readU32LE(data, 4), 0x55667788);
  const ip = openTransport(keys.receiveKey, data);
  icmpEcho(ip, '10.99.0.1', '10.99.0.2', 8);
});
