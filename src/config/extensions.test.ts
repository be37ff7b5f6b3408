import assert from 'node:assert/strict';
import test from 'node:test';
import { isConfigError } from './issues.js';
import { parseConfig } from './parse.js';
import { registerExtension } from './extensions.js';

const PRIV = 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=';

registerExtension({ name: 'FerryOnce', keys: ['Size', 'Tag'], repeatable: ['Tag'], multiple: false, check(section, issues) {
  for (const e of section.entries) if (e.key.toLowerCase() === 'size' && !/^\d+$/.test(e.value)) issues.error(e.line, `Size "${e.value}" is not a number`);
} });

function errors(text: string): string[] {
  try {
    parseConfig(text, { file: 'x.conf' });
  } catch (err) {
    if (isConfigError(err)) return err.errors.map((e) => `${e.line}: ${e.message}`);
    throw err;
  }
  return [];
}

test('a [Ferry…] section no feature of this build reads is an error with its line', () => {
  const e = errors(`[Interface]\nPrivateKey = ${PRIV}\n\n[FerryVxlanNope]\nVNI = 1\n`);
  assert.equal(e.length, 1);
  assert.match(e[0], /^4: unknown section \[FerryVxlanNope\]: expected one of .*\[FerryOnce\]/);
});

test('an unknown key, a repeated single key, a second single section and a bad value are errors with lines', () => {
  const e = errors(`[Interface]\nPrivateKey = ${PRIV}\n[FerryOnce]\nSize = 3\nColour = red\nSize = 4\nTag = a\nTag = b\n[ferryonce]\nSize = x\n`);
  assert.deepEqual(e, [
    '5: unknown key "Colour" in [FerryOnce]: expected one of Size, Tag',
    '6: Size is given twice (first at line 4): expected it once per [FerryOnce]',
    '9: [FerryOnce] is given twice (first at line 3): expected one [FerryOnce] section',
  ]);
  assert.deepEqual(errors(`[FerryOnce]\nsize = x\n`), ['2: Size "x" is not a number']);
  assert.deepEqual(errors(`[FerryOnce]\nsize = 7\ntag=1\n`), []);
});
