/**
 * `ferry capture` on a load-balancing interface (issue #11): a client's connection to a
 * VIP, captured while the daemon translates it, shows both sides of the translation —
 * the client's SYN to the VIP as it came from the host, and the same SYN sent back
 * toward a backend with its destination and source rewritten — read back by tshark.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireHost, run } from '../support/netns.js';
import { waitFor } from '../support/quick-workspace.js';
import { REPO } from '../support/wg.js';
import { LB_HEAD, lbNet, service } from './helpers/lb-topology.js';

const FERRY_CLI = join(REPO, 'src/cli/ferry.ts');

test('a load-balanced connection captured: the SYN to the VIP, then DNAT to a backend and SNAT to SnatAddress', async (t) => {
  if (!requireHost(t, ['tshark'])) return;
  const net = await lbNet(t, LB_HEAD + service('web', '10.96.0.10:80', 'tcp', false));
  const dir = mkdtempSync(join(tmpdir(), 'ferry-capture-lb-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const start = async (file: string, args: string[]) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FERRY_CLI, 'capture', net.ifname, '-w', file, ...args], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr?.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    t.after(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    await waitFor(() => {
      try {
        return statSync(file).size > 0;
      } catch {
        return false;
      }
    }, 'the capture to start', 30_000);
    return { stop: async () => (child.kill('SIGINT'), [await exited, err] as const) };
  };
  const file = join(dir, 'lb.pcapng');
  const byService = join(dir, 'web.pcapng');
  const notUdp = join(dir, 'web-udp.pcapng');
  const captures = [await start(file, ['tcp']), await start(byService, ['--service', 'web']), await start(notUdp, ['--service', 'web', 'udp'])];

  const [answer] = (await net.runClient(['tcp-conns', '10.96.0.10', '80', '3', '1', '41000'])) as { names: Record<string, number> }[];
  assert.equal(Object.values(answer.names).reduce((a, b) => a + b, 0), 3, `three connections answered: ${JSON.stringify(answer)}`);
  await new Promise((r) => setTimeout(r, 300));
  for (const c of captures) {
    const [code, err] = await c.stop();
    assert.equal(code, 0, err);
  }

  const syns = (f: string) =>
    run('tshark', ['-r', f, '-Y', 'tcp.flags.syn == 1 && tcp.flags.ack == 0', '-T', 'fields', '-E', 'separator=|', '-e', 'frame.interface_name', '-e', 'ip.src', '-e', 'tcp.srcport', '-e', 'ip.dst', '-e', 'tcp.dstport'], { timeout: 60_000 })
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('|'));
  const rows = syns(file);
  t.diagnostic(rows.map((r) => r.join(' ')).join('\n'));
  const toVip = rows.filter((r) => r[1] === '10.200.0.2' && r[3] === '10.96.0.10' && r[4] === '80');
  const toBackend = rows.filter((r) => r[1] === '10.96.255.254' && /^10\.0\.[123]\.2$/.test(r[3]) && r[4] === '8080');
  assert.ok(toVip.length >= 3, 'the three SYNs to the VIP, as the host sent them');
  assert.ok(toBackend.length >= 3, 'and the same SYNs after translation: to a backend, from the SNAT address');
  assert.ok(toVip.every((r) => r[0] === 'tun') && toBackend.every((r) => r[0] === 'tun'), 'both at the tun point: the backends sit behind the host');
  const clientPorts = new Set(toVip.map((r) => r[2]));
  assert.deepEqual([...clientPorts].sort(), ['41000', '41001', '41002'], 'the client ports of the three connections');
  // --service web: the filter on its VIP and backends keeps both sides of the translation.
  assert.deepEqual(syns(byService).map((r) => r.join(' ')).sort(), rows.map((r) => r.join(' ')).sort(), '--service web caught the same SYNs');
  assert.deepEqual(syns(notUdp), [], '--service web and-ed with udp: nothing of this TCP service');
});
