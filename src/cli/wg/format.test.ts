import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, colorMode, every, filterAnsi, fixed2, formatBytes, prettyTime } from './format.js';

const plain = (s: string) => filterAnsi(s);

test('prettyTime and ago print what wg prints', () => {
  const cases: [bigint, string][] = [
    [1n, '1 second'],
    [2n, '2 seconds'],
    [59n, '59 seconds'],
    [60n, '1 minute'],
    [65n, '1 minute, 5 seconds'],
    [3600n, '1 hour'],
    [3661n, '1 hour, 1 minute, 1 second'],
    [86400n, '1 day'],
    [2n * 86400n + 7200n, '2 days, 2 hours'],
    [365n * 86400n, '1 year'],
    [2n * 365n * 86400n + 86400n + 1n, '2 years, 1 day, 1 second'],
  ];
  for (const [s, text] of cases) {
    assert.equal(plain(prettyTime(s)), text);
    assert.equal(plain(ago(1_000_000_000n, 1_000_000_000n + s)), `${text} ago`);
  }
  assert.equal(prettyTime(0n), '');
  assert.equal(ago(5n, 5n), 'Now');
  assert.equal(plain(ago(10n, 5n)), '(System clock wound backward; connection problems may ensue.)');
  assert.equal(plain(every(25)), 'every 25 seconds');
  assert.equal(plain(every(65535)), 'every 18 hours, 12 minutes, 15 seconds');
});

test('colours: the unit names are cyan, exactly as wg writes them', () => {
  assert.equal(prettyTime(65n), '1 \x1b[36mminute\x1b[0m, 5 \x1b[36mseconds\x1b[0m');
  assert.equal(formatBytes(1536n), '1.50 \x1b[36mKiB\x1b[0m');
});

test('formatBytes matches printf("%.2f") with binary units, ties to even', () => {
  // Expected strings from glibc printf (via Python's correctly rounded %-formatting).
  const cases: [bigint, string][] = [
    [0n, '0 B'],
    [1n, '1 B'],
    [1023n, '1023 B'],
    [1024n, '1.00 KiB'],
    [1152n, '1.12 KiB'],
    [1153n, '1.13 KiB'],
    [1535n, '1.50 KiB'],
    [10245n, '10.00 KiB'],
    [1048575n, '1024.00 KiB'],
    [1048576n, '1.00 MiB'],
    [1053818n, '1.00 MiB'],
    [1572864n, '1.50 MiB'],
    [1073741823n, '1024.00 MiB'],
    [5368832576n, '5.00 GiB'],
    [1099511627776n, '1.00 TiB'],
    [3848290697216n, '3.50 TiB'],
    [9007199254740993n, '8192.00 TiB'],
    [18446744073709551615n, '16777216.00 TiB'],
  ];
  for (const [b, text] of cases) assert.equal(plain(formatBytes(b)), text, String(b));
});

test('fixed2 rounds exact binary halves to even', () => {
  assert.equal(fixed2(1n, 3n), '0.12'); // 0.125
  assert.equal(fixed2(3n, 3n), '0.38'); // 0.375
  assert.equal(fixed2(5n, 3n), '0.62'); // 0.625
  assert.equal(fixed2(1023n, 10n), '1.00'); // 0.999…
  assert.equal(fixed2(9n, 0n), '9.00');
});

test('filterAnsi removes escape sequences the way terminal.c does', () => {
  assert.equal(filterAnsi('\x1b[0m'), '');
  assert.equal(filterAnsi('\x1b[32m\x1b[1minterface\x1b[0m: \x1b[32mwg0\x1b[0m\n'), 'interface: wg0\n');
  assert.equal(filterAnsi('a\x1b[1;31mb'), 'ab');
  // wg never looks at the last two characters, and an unterminated sequence eats the rest.
  assert.equal(filterAnsi('ab\x1b['), 'ab\x1b[');
  assert.equal(filterAnsi('x\x1b[12'), 'x');
  assert.equal(filterAnsi('plain'), 'plain');
  assert.equal(filterAnsi('a'), 'a');
});

test('colorMode: WG_COLOR_MODE wins, else only a terminal gets colours', () => {
  assert.equal(colorMode({}, true), true);
  assert.equal(colorMode({}, false), false);
  assert.equal(colorMode({ WG_COLOR_MODE: 'always' }, false), true);
  assert.equal(colorMode({ WG_COLOR_MODE: 'never' }, true), false);
  assert.equal(colorMode({ WG_COLOR_MODE: 'other' }, true), true);
});
