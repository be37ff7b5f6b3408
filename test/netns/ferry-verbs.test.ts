/** ferry's own verbs against a running ferryd, through the control socket. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { requireHost } from '../support/netns.js';
import { ping, REPO, wgPair } from '../support/wg.js';

const run = promisify(execFile);
const ferry = (...args: string[]) => run(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/ferry.ts'), ...args], { cwd: REPO });

test('ferry status, drops and stats read a running ferryd', async (t) => {
  if (!requireHost(t, ['wg', 'wireguard-go', 'ping'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4, 2);
  const status = JSON.parse((await ferry('status', a.ifname, '--json')).stdout) as Record<string, unknown>;
  assert.equal(status.interface, a.ifname);
  assert.equal(status.listenPort, a.listenPort);
  assert.equal(status.publicKey, a.publicKey);
  assert.equal(status.peers, 1);
  // A packet to an address no peer owns is dropped with a reason.
  a.ns.tryRun('ping', ['-c', '1', '-W', '1', '10.77.0.99']);
  const drops = JSON.parse((await ferry('drops', a.ifname, '--json')).stdout) as { total: Record<string, number>; datapath: Record<string, number> };
  assert.ok((drops.total.no_route ?? 0) >= 1 && drops.datapath.no_route === drops.total.no_route, JSON.stringify(drops));
  const stats = JSON.parse((await ferry('stats', a.ifname, '--json')).stdout) as { tun: { read: number }; pool: { slots: number } };
  assert.ok(stats.tun.read >= 3 && stats.pool.slots > 0);
  const pretty = (await ferry('status', a.ifname)).stdout;
  assert.match(pretty, new RegExp(`^interface: ${a.ifname}\\n  kind: wireguard\\n`));
  await assert.rejects(ferry('drops', 'fynosuch0'), (e: { code: number; stderr: string }) => e.code === 1 && /Unable to access interface fynosuch0/.test(e.stderr));
});
