import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FerryError } from '../errors.js';
import { hexToBytes, macFromString, macToString } from './format.js';

test('MAC text and hex', () => {
  const b = new Uint8Array(8);
  macFromString('AA-30-01-81-94-69', b, 1);
  assert.equal(macToString(b, 1), 'aa:30:01:81:94:69');
  assert.throws(() => macFromString('aa:30:01:81:94', b, 0), FerryError);
  assert.deepEqual(hexToBytes('4500 00\n73'), new Uint8Array([0x45, 0, 0, 0x73]));
  assert.throws(() => hexToBytes('450'), FerryError);
});
