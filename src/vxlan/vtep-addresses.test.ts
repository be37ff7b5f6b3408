import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENDPOINT_STRIDE, encodeEndpoint } from '../io/endpoint.js';
import { DropReason } from '../stats/drop-reasons.js';
import { VtepAddresses } from './vtep-addresses.js';

/** A received record from the address, from a flow-hash port, with a TOS and a local part set. */
function record(address: string, port = 40123): Uint8Array {
  const rec = new Uint8Array(ENDPOINT_STRIDE);
  encodeEndpoint({ family: address.includes(':') ? 6 : 4, address, port }, rec, 0);
  rec[1] = 0x03;
  rec[24] = 4;
  return rec;
}

test('a VTEP is found by its address whatever the port, TOS or local part; references keep it, the last unref removes it', () => {
  const t = new VtepAddresses(4);
  const b = t.ref(record('192.0.2.2', 8472), 0);
  const v6 = t.ref(record('fd99::2', 8472), 0);
  assert.ok(b >= 0 && v6 >= 0 && b !== v6);
  assert.equal(t.find(record('192.0.2.2'), 0), b);
  assert.equal(t.find(record('fd99::2', 1), 0), v6);
  assert.equal(t.find(record('192.0.2.3'), 0), -1);
  assert.equal(t.find(record('fd99::3'), 0), -1);
  assert.equal(t.ref(record('192.0.2.2', 1), 0), b, 'a second holder');
  assert.equal(t.size, 2);
  t.unref(b);
  assert.equal(t.find(record('192.0.2.2'), 0), b, 'one holder left');
  t.unref(b);
  assert.equal(t.find(record('192.0.2.2'), 0), -1);
  assert.equal(t.find(record('fd99::2'), 0), v6, 'the other stays findable after the removal');
  assert.equal(t.size, 1);
  assert.equal(t.find(new Uint8Array(ENDPOINT_STRIDE), 0), -1, 'an unset record');
});

test('drops count per VTEP; -1 counts nothing; a reused row starts from zero; a full table refuses new VTEPs', () => {
  const t = new VtepAddresses(2);
  const b = t.ref(record('192.0.2.2'), 0);
  t.countDrop(b, DropReason.VxlanUnknownVni);
  t.countDrop(b, DropReason.VxlanUnknownVni);
  t.countDrop(-1, DropReason.VxlanLoop);
  assert.deepEqual(t.dropsOf('192.0.2.2')?.snapshot(), { vxlan_unknown_vni: 2 });
  assert.deepEqual(t.withDrops().map((v) => [v.remote, v.drops.snapshot()]), [['192.0.2.2', { vxlan_unknown_vni: 2 }]]);
  t.unref(b);
  assert.equal(t.dropsOf('192.0.2.2'), null);
  const c = t.ref(record('192.0.2.3'), 0);
  assert.equal(c, b, 'the row is reused');
  assert.equal(t.drops(c), null, 'no drops of its own yet');
  t.countDrop(c, DropReason.VxlanLoop);
  assert.deepEqual(t.drops(c)?.snapshot(), { vxlan_loop: 1 }, 'the previous VTEP\'s counts are gone');
  assert.ok(t.ref(record('192.0.2.4'), 0) >= 0);
  assert.equal(t.ref(record('192.0.2.5'), 0), -1, 'full');
  assert.equal(t.find(record('192.0.2.5'), 0), -1);
});

test('many VTEPs in and out: every live one is found, every gone one is not (probe runs survive deletions)', () => {
  const t = new VtepAddresses(64);
  const live = new Map<string, number>();
  const gone = new Set<string>();
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 64; i++) {
      const a = `10.${round}.${i >> 4}.${i & 15}`;
      if (live.size < 64) live.set(a, t.ref(record(a), 0));
    }
    let k = 0;
    for (const [a, s] of [...live]) {
      if (k++ % 2 === round % 2) {
        t.unref(s);
        live.delete(a);
        gone.add(a);
      }
    }
    for (const [a, s] of live) assert.equal(t.find(record(a), 0), s, a);
    for (const a of gone) assert.equal(t.find(record(a), 0), -1, `${a} is gone`);
    assert.equal(t.size, live.size);
  }
});
