import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/parse.js';
import type { WgQuickConfig } from '../config/model.js';
import { planesSync, type PlanesSyncTarget } from './planes-sync.js';

function target(initial: string | null, refuse?: Error): PlanesSyncTarget & { given: WgQuickConfig[] } {
  const given: WgQuickConfig[] = [];
  return {
    given,
    planesConfig: initial === null ? null : parseConfig(initial, { file: 'flannel1.conf' }),
    hosted: [{ name: 'vxlan' }],
    reloadPlanes(config) {
      if (refuse) throw refuse;
      given.push(config);
    },
  };
}

const SECTIONS = '[FerryVxlan]\nLocal = 192.0.2.1\n\n[FerryVxlanPeer]\nRemote = 192.0.2.2\nVtepMAC = 02:00:00:00:00:02\nSubnets = 10.244.2.0/24\n';

test('planes-sync: the sections reach the planes; a stripped file (no Address) keeps the addresses applied last', () => {
  const t = target('[Interface]\nAddress = 10.244.1.0/32\n');
  assert.deepEqual(planesSync(t, `[Interface]\n\n${SECTIONS}`, '/dev/fd/63'), { ok: true, planes: ['vxlan'], errors: [] });
  assert.equal(t.given.length, 1);
  assert.deepEqual(t.given[0].interface.addresses.map((a) => `${[...a.bytes].join('.')}/${a.cidr}`), ['10.244.1.0/32']);
  assert.equal(t.given[0].extensions.length, 2);
  // A file that names addresses is taken as it is.
  planesSync(t, `[Interface]\nAddress = 10.244.9.0/32\n${SECTIONS}`, 'x.conf');
  assert.equal(t.given[1].interface.addresses[0].bytes[2], 9);
});

test('planes-sync: a bad file is refused with file:line and reaches no plane; a plane\'s refusal is reported', () => {
  const t = target(null);
  const bad = planesSync(t, `[Interface]\n${SECTIONS.replace('Local = 192.0.2.1', 'Local = 192.0.2.1\nVNI = 16777216')}`, 'sync.conf');
  assert.equal(bad.ok, false);
  assert.match(bad.errors[0], /^sync\.conf:4: VNI "16777216" is invalid/);
  assert.equal(t.given.length, 0);
  const refused = planesSync(target(null, new Error('10.244.2.0/24 is already routed to wireguard')), SECTIONS, 'sync.conf');
  assert.deepEqual(refused, { ok: false, planes: ['vxlan'], errors: ['sync.conf: 10.244.2.0/24 is already routed to wireguard'] });
});
