import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ENDPOINT_STRIDE, decodeEndpoint, encodeEndpoint, type Endpoint } from '../io/endpoint.js';
import { FakeClock } from '../../test/fakes/fake-clock.js';
import { mac } from '../../test/support/vxlan-frames.js';
import { Fdb, LearnResult } from './fdb.js';
import { MacTable } from './mac-table.js';

const PORT = 8472;

/** A received datagram's endpoint record: the sender's address at its (flow-hash) source port, a TOS byte. */
function from(address: string, sourcePort = 51000): Uint8Array {
  const r = new Uint8Array(ENDPOINT_STRIDE);
  encodeEndpoint({ family: address.includes(':') ? 6 : 4, address, port: sourcePort }, r);
  r[1] = 0x02;
  return r;
}

function remoteOf(fdb: Fdb, m: Uint8Array): Endpoint | null {
  const e = fdb.lookup(m, 0);
  return e < 0 ? null : decodeEndpoint(fdb.endpoints, e * ENDPOINT_STRIDE);
}

test('learning: a source MAC points at the VTEP it came from, at the overlay port; a move follows the MAC', () => {
  const clock = new FakeClock(0);
  const fdb = new Fdb(16);
  const m = mac('0a:00:00:00:00:01');
  assert.equal(fdb.learn(m, 0, from('192.0.2.2'), 0, PORT, clock.now()), LearnResult.Learned);
  assert.deepEqual(remoteOf(fdb, m), { family: 4, address: '192.0.2.2', port: PORT });
  assert.equal(fdb.learn(m, 0, from('2001:db8::3', 40001), 0, PORT, clock.now()), LearnResult.Learned);
  assert.deepEqual(remoteOf(fdb, m), { family: 6, address: '2001:db8::3', port: PORT });
  assert.equal(fdb.size, 1);
  assert.deepEqual(fdb.list(clock.now()).map((e) => [e.mac, e.remote, e.static]), [['0a:00:00:00:00:01', '[2001:db8::3]:8472', false]]);
});

test('ageing on an injected clock: 300 s without a frame and a learned MAC is gone; traffic keeps it; static entries stay', () => {
  const clock = new FakeClock(1_000_000);
  const fdb = new Fdb(16);
  const quiet = mac('0a:00:00:00:00:01');
  const busy = mac('0a:00:00:00:00:02');
  const fixed = mac('0a:00:00:00:00:03');
  fdb.learn(quiet, 0, from('192.0.2.2'), 0, PORT, clock.now());
  fdb.learn(busy, 0, from('192.0.2.2'), 0, PORT, clock.now());
  fdb.addStatic(fixed, { family: 4, address: '192.0.2.9', port: PORT });
  for (let s = 10; s <= 290; s += 10) {
    clock.advance(10_000);
    fdb.learn(busy, 0, from('192.0.2.2'), 0, PORT, clock.now());
    assert.equal(fdb.age(clock.now()), 0, `at ${s} s`);
  }
  clock.advance(9_000);
  assert.equal(fdb.age(clock.now()), 0, 'still inside 300 s (299 s)');
  clock.advance(1_000);
  assert.equal(fdb.age(clock.now()), 1, 'the quiet MAC ages out at 300 s');
  assert.equal(fdb.lookup(quiet, 0), -1);
  assert.ok(fdb.lookup(busy, 0) >= 0);
  clock.advance(600_000);
  fdb.age(clock.now());
  assert.equal(fdb.lookup(busy, 0), -1);
  assert.deepEqual(remoteOf(fdb, fixed), { family: 4, address: '192.0.2.9', port: PORT }, 'static entries do not age');
});

test('a full table learns nothing new (counted by the caller); a static MAC seen from elsewhere is refused', () => {
  const fdb = new Fdb(4);
  for (let i = 0; i < 4; i++) assert.equal(fdb.learn(mac(`0a:00:00:00:00:0${i}`), 0, from('192.0.2.2'), 0, PORT, 0), LearnResult.Learned);
  assert.equal(fdb.learn(mac('0a:00:00:00:00:09'), 0, from('192.0.2.2'), 0, PORT, 0), LearnResult.Full);
  assert.equal(fdb.learn(mac('0a:00:00:00:00:01'), 0, from('192.0.2.2'), 0, PORT, 1), LearnResult.Learned, 'known MACs still refresh');
  assert.equal(fdb.size, 4);
  assert.throws(() => fdb.addStatic(mac('0a:00:00:00:00:0a'), { family: 4, address: '192.0.2.2', port: PORT }), /FDB is full/);
  assert.equal(fdb.remove(mac('0a:00:00:00:00:00')), true);
  fdb.addStatic(mac('0a:00:00:00:00:0a'), { family: 4, address: '192.0.2.5', port: PORT });
  assert.equal(fdb.learn(mac('0a:00:00:00:00:0a'), 0, from('192.0.2.5'), 0, PORT, 2), LearnResult.Static);
  assert.equal(fdb.learn(mac('0a:00:00:00:00:0a'), 0, from('192.0.2.6'), 0, PORT, 2), LearnResult.StaticMoved);
  assert.deepEqual(remoteOf(fdb, mac('0a:00:00:00:00:0a')), { family: 4, address: '192.0.2.5', port: PORT });
});

test('all-zero-MAC flood entries, as bridge fdb append makes them: each VTEP once, removable', () => {
  const fdb = new Fdb(4);
  fdb.appendFlood({ family: 4, address: '192.0.2.2', port: PORT });
  fdb.appendFlood({ family: 6, address: '2001:db8::3', port: PORT });
  fdb.appendFlood({ family: 4, address: '192.0.2.2', port: PORT });
  assert.equal(fdb.floodCount, 2);
  assert.deepEqual(fdb.list(0).map((e) => `${e.mac} ${e.remote}`), ['00:00:00:00:00:00 192.0.2.2:8472', '00:00:00:00:00:00 [2001:db8::3]:8472']);
  assert.equal(fdb.removeFlood({ family: 4, address: '192.0.2.2', port: PORT }), true);
  assert.deepEqual(decodeEndpoint(fdb.flood, 0), { family: 6, address: '2001:db8::3', port: PORT });
  assert.equal(fdb.removeFlood({ family: 4, address: '192.0.2.2', port: PORT }), false);
});

test('the MAC table agrees with a Map under random inserts and deletes, and never holds more than its bound', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.nat(1000)), { maxLength: 300 }), (ops) => {
      const t = new MacTable(24);
      const ref = new Map<number, number>();
      const key = new Uint8Array(6);
      for (const [insert, k, v] of ops) {
        // Keys differ in the first and the last bytes, so both halves of the hash matter.
        key.set([k & 3, 0, 0, 0, 0, k >> 2]);
        if (insert) {
          const ok = t.set(key, 0, v);
          if (ref.has(k) || ref.size < 24) {
            assert.equal(ok, true);
            ref.set(k, v);
          } else {
            assert.equal(ok, false);
          }
        } else {
          assert.equal(t.delete(key, 0), ref.get(k) ?? -1);
          ref.delete(k);
        }
        assert.equal(t.size, ref.size);
      }
      for (let k = 0; k <= 40; k++) {
        key.set([k & 3, 0, 0, 0, 0, k >> 2]);
        assert.equal(t.get(key, 0), ref.get(k) ?? -1);
      }
    }),
  );
});
