import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import test from 'node:test';
import { run } from './ferry.js';
import { MemoryIo } from './wg/cli-io.js';
import { serviceExpression } from './capture-service.js';

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

test('ferry capture --service: the service becomes a filter on its VIP and its backends', () => {
  assert.equal(
    serviceExpression({ address: '10.96.0.10:80', protocol: 'tcp', backends: [{ address: '10.0.1.2', port: 8080 }, { address: 'fd00:2::2', port: 8081 }] }),
    '(host 10.96.0.10 and tcp and port 80) or (host 10.0.1.2 and tcp and port 8080) or (host fd00:2::2 and tcp and port 8081)',
  );
  assert.equal(serviceExpression({ address: '[fd00:96::10]:53', protocol: 'udp', backends: [] }), '(host fd00:96::10 and udp and port 53)');
});

test('ferry capture --service without a daemon says so', async () => {
  const r = await ferry('capture', 'fy-none-capture', '--service', 'web', '-w', `${tmpdir()}/ferry-capture-none-${process.pid}.pcapng`);
  assert.equal(r.code, 1);
  assert.match(r.err, /fy-none-capture: no ferry daemon answers for it/);
});

test('ferry capture: no daemon for the interface', async () => {
  const r = await ferry('capture', 'fy-none-capture', '-w', `${tmpdir()}/ferry-capture-none-${process.pid}.pcapng`);
  assert.equal(r.code, 1);
  assert.equal(r.err, 'Unable to capture on interface fy-none-capture: no ferry daemon answers for it\n');
});
