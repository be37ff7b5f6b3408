/**
 * Restarts after a crash (issue #14): `kill -9` of the ferryd that `ferry up` started, then
 * the same `ferry up` again. The dead process leaves its UAPI and control sockets behind;
 * the new one must replace them, and traffic to a wireguard-go peer (which still holds the
 * old session) must resume within 5 s of the first packet. With a full tunnel, `ferry down`
 * after the crash must remove what `up` set outside the interface (policy rules, the nft
 * table, the stale sockets), leaving the namespace as it was before `up`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { controlRequest } from '../../src/control/control-client.js';
import { netns, requireHost, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { genKey, setconf, startDaemon } from '../support/wg.js';
import { alive, ferry, waitFor, workspace } from '../support/quick-workspace.js';

const TOOLS = ['wg', 'wireguard-go', 'ping', 'bash', 'nft'];

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

interface Scene {
  ifname: string;
  nsA: Netns;
  nsB: Netns;
  publicKey: string;
  /** ferry's config file in the workspace. */
  path: string;
  ferryd: string;
}

/** nsA runs `ferry up` with `allowedIps` towards a wireguard-go peer in nsB (10.79.0.2, and 10.89.0.1 behind it). */
async function scene(t: Parameters<typeof workspace>[0], allowedIps: string, addresses = '10.79.0.1/24'): Promise<Scene> {
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
  const path = ws.config(ifname, `[Interface]\nPrivateKey = ${a.privateKey}\nListenPort = 51841\nAddress = ${addresses}\n\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = ${allowedIps}\nEndpoint = 10.204.0.2:51842\n`);
  return { ifname, nsA, nsB, publicKey: a.publicKey, path, ferryd: ws.ferryd };
}

/** `ferry up`, traffic through it, then `kill -9` of its ferryd; resolves with the dead pid once its TUN is gone. */
async function upThenKill(t: { diagnostic(msg: string): void }, s: Scene): Promise<number> {
  const up = ferry(s.nsA, 'up', s.path, { FERRYD: s.ferryd });
  assert.equal(up.status, 0, up.stderr);
  t.diagnostic(`first start: reply after ${msUntilReply(s.nsA, '10.89.0.1', 5000)} ms`);
  const pid = await ferrydPid(s.ifname);
  process.kill(pid, 'SIGKILL');
  await waitFor(() => !alive(pid), 'the killed ferryd to be gone');
  await waitFor(() => !s.nsA.tryRun('ip', ['link', 'show', 'dev', s.ifname]), 'the TUN to vanish with its process');
  assert.ok(existsSync(`/var/run/wireguard/${s.ifname}.sock`), 'the dead process left its UAPI socket behind');
  return pid;
}

/** `ferry up` again: a new daemon on both sockets, and traffic within 5 s of the first packet, both ways. */
async function upAgain(t: { diagnostic(msg: string): void }, s: Scene, deadPid: number): Promise<number> {
  const again = ferry(s.nsA, 'up', s.path, { FERRYD: s.ferryd });
  assert.equal(again.status, 0, `ferry up after a crash: ${again.stderr}`);
  const pid = await ferrydPid(s.ifname);
  assert.notEqual(pid, deadPid, 'the control socket answers from the new daemon');
  assert.match(s.nsA.run('wg', ['show', s.ifname, 'public-key']), new RegExp(s.publicKey.replace(/[+/]/g, '\\$&')), 'and the UAPI socket too');
  // wireguard-go still holds the old session; ferry starts a new handshake on the first packet.
  const resumed = msUntilReply(s.nsA, '10.89.0.1', 5000);
  t.diagnostic(`after kill -9 and ferry up: reply after ${resumed} ms`);
  assert.ok(resumed <= 5000, `traffic resumed within 5 s (${resumed} ms)`);
  // And the other way: the peer reaches us without waiting for its old session to expire.
  assert.match(s.nsB.run('ping', ['-n', '-c', '3', '-i', '0.2', '-W', '2', '10.79.0.1']), / 0% packet loss/);
  return pid;
}

/** What `ferry up` may change in a namespace besides its interface: routes and rules of every table, addresses, nft tables. */
function hostState(ns: Netns): Record<string, string> {
  return {
    routes4: ns.run('ip', ['-4', 'route', 'show', 'table', 'all']),
    routes6: ns.run('ip', ['-6', 'route', 'show', 'table', 'all']),
    rules4: ns.run('ip', ['-4', 'rule', 'show']),
    rules6: ns.run('ip', ['-6', 'rule', 'show']),
    addresses: ns.run('ip', ['-o', 'addr', 'show']),
    nft: ns.run('nft', ['list', 'tables']),
  };
}

test('kill -9 of ferryd, then ferry up again: stale sockets replaced, traffic back within 5 s', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const s = await scene(t, '10.79.0.2/32, 10.89.0.0/16');
  const pid = await upThenKill(t, s);
  assert.equal(s.nsA.run('ip', ['route', 'show', '10.89.0.0/16']).trim(), '', 'its route went with the interface');

  // No `ferry down` here: the new daemon replaces the stale sockets itself.
  const pid2 = await upAgain(t, s, pid);

  const finalDown = ferry(s.nsA, 'down', s.path);
  assert.equal(finalDown.status, 0, finalDown.stderr);
  await waitFor(() => !alive(pid2), 'ferryd to exit');
  assert.equal(existsSync(`/var/run/wireguard/${s.ifname}.sock`), false);
  assert.equal(existsSync(`/run/ferry/${s.ifname}.sock`), false);
});

test('full tunnel, kill -9 of ferryd: ferry down removes rules, nft tables and stale sockets (exit 0), ferry up works again', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const s = await scene(t, '10.79.0.2/32, 10.89.0.0/16, 0.0.0.0/0, ::/0', '10.79.0.1/24, fd79::1/64');
  // The veth's link-local address settles first (DAD), so it is the same in both snapshots.
  await waitFor(() => s.nsA.run('ip', ['-6', 'addr', 'show', 'tentative']).trim() === '', 'duplicate address detection on the underlay');
  const before = hostState(s.nsA);
  const pid = await upThenKill(t, s);
  const left = hostState(s.nsA);
  assert.match(left.rules4, /not from all fwmark 0xca6c lookup 51820/, 'the crash left the full tunnel\'s rules');
  assert.match(left.nft, new RegExp(`wg-quick-${s.ifname}`), 'and its nft tables');

  const down = ferry(s.nsA, 'down', s.path);
  t.diagnostic(`ferry down after the crash: ${down.stderr.trim()}`);
  assert.equal(down.status, 0, down.stderr);
  assert.match(down.stderr, /ferryd of `fyrs\w*' is not running: it died without cleaning up/);
  assert.deepEqual(hostState(s.nsA), before, 'no route, rule, address or nft table left behind');
  assert.equal(existsSync(`/var/run/wireguard/${s.ifname}.sock`), false, 'the stale UAPI socket removed');
  assert.equal(existsSync(`/run/ferry/${s.ifname}.sock`), false, 'the stale control socket removed');
  // A second down finds nothing to do, as wg-quick says it.
  assert.equal(ferry(s.nsA, 'down', s.path).status, 1);

  const pid2 = await upAgain(t, s, pid);
  const finalDown = ferry(s.nsA, 'down', s.path);
  assert.equal(finalDown.status, 0, finalDown.stderr);
  await waitFor(() => !alive(pid2), 'ferryd to exit');
  assert.deepEqual(hostState(s.nsA), before);
});
