import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/parse.js';
import { offloadSetting } from './offload-setting.js';

test('offloads: FERRY_OFFLOAD wins, then FerryOffload in [Interface], then on', () => {
  const off = parseConfig('[Interface]\nFerryOffload = off\n');
  const none = parseConfig('[Interface]\nListenPort = 1\n');
  assert.equal(offloadSetting({}, null), true);
  assert.equal(offloadSetting({}, none), true);
  assert.equal(offloadSetting({}, off), false);
  assert.equal(offloadSetting({ FERRY_OFFLOAD: 'on' }, off), true);
  assert.equal(offloadSetting({ FERRY_OFFLOAD: ' OFF ' }, null), false);
  assert.equal(offloadSetting({ FERRY_OFFLOAD: '' }, off), false, 'an empty variable is unset');
  assert.throws(() => offloadSetting({ FERRY_OFFLOAD: 'no' }, null), /FERRY_OFFLOAD="no" is invalid: expected on or off/);
});
