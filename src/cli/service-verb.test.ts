/**
 * `ferry service` and `ferry conntrack` without a daemon: usage and exit codes, the
 * message when nobody answers, and the conntrack -L line. (test/netns/lb-daemon.test.ts
 * runs them against a real interface.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { run } from './ferry.js';
import { MemoryIo } from './wg/cli-io.js';
import { formatEntry } from './conntrack-verb.js';

async function ferry(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = new MemoryIo({}, tmpdir());
  const code = await run(io, argv);
  return { code, out: io.stdout, err: io.stderr };
}

test('usage on stderr with status 1 for bad arguments; --help on stdout with 0', async () => {
  for (const argv of [['service'], ['service', 'list'], ['service', 'frob', 'lb0'], ['service', 'del', 'lb0'], ['service', 'drain', 'lb0', 'web', '10.0.1.2:80', 'on'], ['conntrack'], ['conntrack', 'lb0', '--colour', 'red'], ['conntrack', 'lb0', '--state']]) {
    const r = await ferry(...argv);
    assert.equal(r.code, 1, argv.join(' '));
    assert.equal(r.out, '');
    assert.match(r.err, /^Usage: ferry (service|conntrack) /, argv.join(' '));
  }
  const help = await ferry('service', '--help');
  assert.deepEqual([help.code, help.err], [0, '']);
  assert.match(help.out, /^Usage: ferry service list <interface> \[--json\]\n/);
  assert.match((await ferry('conntrack', '-h')).out, /^Usage: ferry conntrack <interface> /);
  assert.match((await ferry('--help')).out, /\n {2}service: Shows and changes the load-balanced services of a ferry interface\n {2}conntrack: /);
});

test('no daemon: a one-line message and status 1', async () => {
  const r = await ferry('service', 'list', 'fy-nosuch-lb');
  assert.deepEqual(r, { code: 1, out: '', err: 'Unable to list on interface fy-nosuch-lb: no ferry daemon answers for it\n' });
  const c = await ferry('conntrack', 'fy-nosuch-lb', '-p', 'udp');
  assert.deepEqual(c, { code: 1, out: '', err: 'Unable to list the connection table of interface fy-nosuch-lb: no ferry daemon answers for it\n' });
});

test('a conntrack entry reads as conntrack -L prints one', () => {
  const tuple = (src: string, dst: string, sport: number, dport: number, packets: number, bytes: number) => ({ src, dst, sport, dport, packets, bytes });
  const base = { family: 4 as const, snat: true, service: 'dns', backend: '10.0.1.2:5353' };
  assert.equal(
    formatEntry({ ...base, proto: 'udp', state: 'UNREPLIED', timeout: 29, original: tuple('10.200.0.2', '10.96.0.53', 5000, 53, 1, 29), reply: tuple('10.0.1.2', '10.96.255.254', 5353, 40001, 0, 0), seenReply: false, assured: false }),
    'udp      17 29 src=10.200.0.2 dst=10.96.0.53 sport=5000 dport=53 packets=1 bytes=29 [UNREPLIED] src=10.0.1.2 dst=10.96.255.254 sport=5353 dport=40001 packets=0 bytes=0 service=dns backend=10.0.1.2:5353\n',
  );
  assert.equal(
    formatEntry({ ...base, proto: 'tcp', state: 'ESTABLISHED', timeout: 431999, original: tuple('10.200.0.2', '10.96.0.10', 40000, 80, 3, 180), reply: tuple('10.0.1.2', '10.96.255.254', 8080, 40002, 2, 120), seenReply: true, assured: true }),
    'tcp      6 431999 ESTABLISHED src=10.200.0.2 dst=10.96.0.10 sport=40000 dport=80 packets=3 bytes=180 src=10.0.1.2 dst=10.96.255.254 sport=8080 dport=40002 packets=2 bytes=120 [ASSURED] service=dns backend=10.0.1.2:5353\n',
  );
});
