import { test } from 'node:test';
import assert from 'node:assert/strict';
import { markInFirewall } from './crashed.js';

test('markInFirewall: the full tunnel\'s mark from nft\'s listing and from iptables-save', () => {
  assert.equal(markInFirewall('\t\tmeta l4proto udp meta mark 0x0000ca6c ct mark set meta mark\n'), 51820);
  assert.equal(markInFirewall('-A POSTROUTING -p udp -m mark --mark 0xca6d -m comment --comment "wg-quick(8) rule for wg0" -j CONNMARK --save-mark\n'), 51821);
  assert.equal(markInFirewall('\t\tiifname != "wg0" ip daddr 10.0.0.1 fib saddr type != local drop\n'), null);
});
