/**
 * Restarts after a crash (issue #14): `kill -9` of the ferryd that `ferry up` started, then
 * the same `ferry up` again. The dead process leaves its UAPI and control sockets behind;
 * the new one must replace them, and traffic to a wireguard-go peer (which still holds the
 * old session) must resume within 5 s of the first packet. `ferry down` after the crash
 * must leave nothing dangling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { controlRequest } from '../../src/control/control-client.js';
import { netns, requireHost, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { genKey, setconf, startDaemon } from '../support/wg.js';
import { alive, ferry, waitFor, workspace } from '../support/quick-workspace.js';

const TOOLS = ['wg', 'wireguard-go', 'ping', 'bash'];

async function ferrydPid(ifname: string): Promise<number> {
  return ((await controlRequest(ifname, 'status')) as { pid: number }).pid;
}

/** Pings once a 100 ms until a reply; the time from the first echo request to it, in ms. */
function msUntilReply(ns: Netns, address: string, limitMs: number): number {
  const started = Date.now();
  const out = ns.run('bash', ['-c', `ping -n -i 0.1 -W 1 -c ${Math.ceil(limitMs / 100)} ${address} | grep -m1 'bytes from' || true`], { timeout: limitMs + 5000 });
  assert.match(out, /bytes from/, `no reply from ${address} within ${limitMs} ms`);
  const seq = Number(/icmp_seq=(\d+)/.exec(out)?.[1] ?? '0');
  // icmp_seq counts from 1, one every 100 ms: the reply came to request seq.
  return Math.min(Date.now() - started, (seq - 1) * 100 + 100);
}

test('kill -9 of ferryd, then ferry up again: stale sockets replaced, traffic back within 5 s, ferry down leaves nothing', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const ifname = uniqueName('fyrs');
  const ws = workspace(t);
  const nsA = netns(t, 'fyra');
  ws.track(nsA, ifname);
  const nsB = netns(t, 'fyrb');
  vethPair(nsA, '10.204.0.1/24', nsB, '10.204.0.2/24');
  const a = genKey();
  const b = genKey();
  const peer = await startDaemon(t, nsB, 'wireguard-go');
  setconf({ ns: nsB, ifname: peer.ifname }, `[Interface]\nPrivateKey = ${b.privateKey}\nListenPort = 51842\n\n[Peer]\nPublicKey = ${a.publicKey}\nAllowedIPs = 10.79.0.1/32\nEndpoint = 10.204.0.1:51841\n`);
  nsB.run('ip', ['addr', 'add', '10.79.0.2/24', 'dev', peer.ifname]);
  nsB.run('ip', ['addr', 'add', '10.89.0.1/32', 'dev', peer.ifname]);
  nsB.run('ip', ['link', 'set', peer.ifname, 'up']);
  const path = ws.config(ifname, `[Interface]\nPrivateKey = ${a.privateKey}\nListenPort = 51841\nAddress = 10.79.0.1/24\n\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = 10.79.0.2/32, 10.89.0.0/16\nEndpoint = 10.204.0.2:51842\n`);

  const up = ferry(nsA, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(up.status, 0, up.stderr);
  const first = msUntilReply(nsA, '10.89.0.1', 5000);
  t.diagnostic(`first start: reply after ${first} ms`);
  const pid = await ferrydPid(ifname);

  process.kill(pid, 'SIGKILL');
  await waitFor(() => !alive(pid), 'the killed ferryd to be gone');
  await waitFor(() => !nsA.tryRun('ip', ['link', 'show', 'dev', ifname]), 'the TUN to vanish with its process');
  assert.ok(existsSync(`/var/run/wireguard/${ifname}.sock`), 'the dead process left its UAPI socket behind');
  assert.equal(nsA.run('ip', ['route', 'show', '10.89.0.0/16']).trim(), '', 'its route went with the interface');

  // ferry down after the crash: nothing is up, and it says so without leaving anything.
  const down = ferry(nsA, 'down', path);
  t.diagnostic(`ferry down after the crash: status ${down.status}: ${down.stderr.trim()}`);
  assert.equal(nsA.run('ip', ['-o', 'addr', 'show', 'to', '10.79.0.1']).trim(), '', 'no address left');

  const again = ferry(nsA, 'up', path, { FERRYD: ws.ferryd });
  assert.equal(again.status, 0, `ferry up after a crash: ${again.stderr}`);
  const pid2 = await ferrydPid(ifname);
  assert.notEqual(pid2, pid, 'the control socket answers from the new daemon');
  assert.match(nsA.run('wg', ['show', ifname, 'public-key']), new RegExp(a.publicKey.replace(/[+/]/g, '\\$&')), 'and the UAPI socket too');
  // wireguard-go still holds the old session; ferry starts a new handshake on the first packet.
  const resumed = msUntilReply(nsA, '10.89.0.1', 5000);
  t.diagnostic(`after kill -9 and ferry up: reply after ${resumed} ms`);
  assert.ok(resumed <= 5000, `traffic resumed within 5 s (${resumed} ms)`);
  // And the other way: the peer reaches us without waiting for its old session to expire.
  assert.match(nsB.run('ping', ['-n', '-c', '3', '-i', '0.2', '-W', '2', '10.79.0.1']), / 0% packet loss/);

  const finalDown = ferry(nsA, 'down', path);
  assert.equal(finalDown.status, 0, finalDown.stderr);
  await waitFor(() => !alive(pid2), 'ferryd to exit');
  assert.equal(existsSync(`/var/run/wireguard/${ifname}.sock`), false);
  assert.equal(existsSync(`/run/ferry/${ifname}.sock`), false);
});
