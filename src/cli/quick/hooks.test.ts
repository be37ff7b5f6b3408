import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { expandHook, hookCommand } from './hooks.js';
import { requireTools } from '../../../test/support/netns.js';

test('expandHook replaces every %i, and only %i', () => {
  assert.equal(expandHook('iptables -A FORWARD -i %i -j ACCEPT; echo %i > /tmp/%i', 'wg0'), 'iptables -A FORWARD -i wg0 -j ACCEPT; echo wg0 > /tmp/wg0');
  assert.equal(expandHook('printf "%s %d" a 1; echo 100%', 'wg0'), 'printf "%s %d" a 1; echo 100%');
  assert.equal(expandHook('echo %%i', 'wg0'), 'echo %wg0');
});

const bash = (hook: string) => spawnSync(hookCommand(hook)[0], hookCommand(hook).slice(1), { encoding: 'utf8' });

test('hooks run in a shell like wg-quick\'s: errexit, pipefail, extglob', (t) => {
  if (!requireTools(t, ['bash'])) return;
  assert.equal(bash('false; echo reached').stdout, '', 'set -e stops at the first failure');
  assert.notEqual(bash('false; echo reached').status, 0);
  assert.notEqual(bash('false | true').status, 0, 'pipefail');
  assert.equal(bash('x=abc; echo ${x/+(b)/B}').stdout, 'aBc\n', 'extglob');
  assert.equal(bash('echo a  b # comment').stdout, 'a b\n');
});
