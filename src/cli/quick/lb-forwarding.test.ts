/**
 * Which families `ferry up` turns forwarding on for: those whose backends the host
 * forwards to (no [Peer] AllowedIPs hold them), or that have a SnatAddress; none without
 * [FerryLb]. (test/netns/lb.test.ts checks the sysctl lines of a real `ferry up`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/parse.js';
import { PEER_A, PRIV } from '../../../test/support/test-keys.js';
import { forwardedFamilies } from './lb-forwarding.js';

const config = (text: string) => parseConfig(text, { file: 'lb0.conf' });
const PEER = `[Peer]\nPublicKey = ${PEER_A}\nAllowedIPs = 10.0.9.0/24, fd00:9::/64\n`;
const svc = (backend: string, vip = '10.96.0.10:80') => `[FerryService]\nName = s${backend.length}\nAddress = ${vip}\nBackend = ${backend}\n`;

test('forwarding: the families of backends reached through the host, or of a SnatAddress; none without [FerryLb]', () => {
  assert.deepEqual(forwardedFamilies(config(`[Interface]\nPrivateKey = ${PRIV}\n\n${PEER}`)), []);
  const lb = (head: string, ...services: string[]) => config(`[Interface]\nPrivateKey = ${PRIV}\n\n[FerryLb]\nServiceRange = 10.96.0.0/16, fd00:96::/112\n${head}${services.join('')}${PEER}`);
  assert.deepEqual(forwardedFamilies(lb('', svc('10.0.9.2:8080'))), [], 'a peer\'s backend: the tunnel carries it, the host forwards nothing');
  assert.deepEqual(forwardedFamilies(lb('SnatAddress = 10.96.255.254\n', svc('10.0.1.2:8080'))), [4]);
  assert.deepEqual(forwardedFamilies(lb('SnatAddress = 10.96.255.254, fd00:96::fffe\n')), [4, 6], 'SNAT addresses are for backends behind the host, also ones added later');
  assert.deepEqual(forwardedFamilies(lb('SnatAddress = fd00:96::fffe\n', svc('[fd00:1::2]:8080', '[fd00:96::10]:80'), svc('[fd00:9::2]:80', '[fd00:96::11]:80'))), [6]);
});
