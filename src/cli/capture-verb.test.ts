import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import test from 'node:test';
import { run } from './ferry.js';
import { MemoryIo } from './wg/cli-io.js';

async function ferry(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = new MemoryIo({}, tmpdir());
  const code = await run(io, argv);
  return { code, out: io.stdout, err: io.stderr };
}

test('ferry capture: bad arguments are refused before connecting, with what is wrong', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['capture'], /an interface is needed/],
    [['capture', 'wg0', '-c'], /-c needs a value/],
    [['capture', 'wg0', '-c', 'ten'], /-c must be a non-negative integer, got "ten"/],
    [['capture', 'wg0', '--bogus'], /unknown option --bogus/],
    [['capture', 'wg0', '--point', 'tun,wire'], /capture point "wire" is not one of tun, inner, outer, drop/],
    [['capture', 'wg0', '--peer', 'nope'], /peer "nope" is not a WireGuard public key/],
    [['capture', 'wg0', '--vtep', 'x'], /vtep "x" is not an IP address/],
    [['capture', 'wg0', '--service', 'web'], /--service is not available yet/],
    [['capture', 'wg0', 'host', '10.0.0.1', 'and'], /capture filter: expected a primitive/],
    [['capture', 'wg0', 'port', '99999'], /port "99999" must be an integer/],
  ];
  for (const [argv, re] of cases) {
    const r = await ferry(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.match(r.err, re, argv.join(' '));
  }
  const help = await ferry('capture', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: ferry capture <interface> \[-w <file> \| -w -\]/);
  assert.match((await ferry('--help')).out, /\n {2}capture: Streams pcapng from a ferry daemon's capture points/);
});

test('ferry capture: no daemon for the interface', async () => {
  const r = await ferry('capture', 'fy-none-capture', '-w', `${tmpdir()}/ferry-capture-none-${process.pid}.pcapng`);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Unable to capture on interface fy-none-capture: no ferry daemon answers for it\n');
});
