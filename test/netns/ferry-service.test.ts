/**
 * ferryd as ferry@.service runs it, under a NOTIFY_SOCKET the test owns (systemd is not
 * PID 1 here): the unit's ExecStart (`ferryd --up`), ExecReload and ExecStop commands with
 * the config in a temp dir, two wireguard-go peers across a veth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlRequest } from '../../src/control/control-client.js';
import { netns, requireHost, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { assignments, notifyListener, type Notification } from '../support/notify-listener.js';
import { unitCommands } from '../support/unit-commands.js';
import { genKey, ping, REPO, setconf, startDaemon } from '../support/wg.js';

const TOOLS = ['wg', 'wireguard-go', 'ping', 'python3'];
const WATCHDOG_USEC = 400_000;
const BLOCK_MS = 1500;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const has = (n: Notification, assignment: string) => n.text.split('\n').includes(assignment);

/** A wireguard-go peer in its own namespace, joined to nsA by a veth (NET.1 in nsA, NET.2 there). */
async function goPeer(t: Parameters<typeof startDaemon>[0], nsA: Netns, net: string, ferryPublic: string, inner: string): Promise<{ ifname: string; publicKey: string }> {
  const ns = netns(t, 'fysp');
  vethPair(nsA, `${net}.1/24`, ns, `${net}.2/24`);
  const { ifname } = await startDaemon(t, ns, 'wireguard-go');
  const keys = genKey();
  setconf({ ns, ifname }, `[Interface]\nPrivateKey = ${keys.privateKey}\nListenPort = 51822\n\n[Peer]\nPublicKey = ${ferryPublic}\nAllowedIPs = 10.77.0.1/32\nEndpoint = ${net}.1:51821\n`);
  ns.run('ip', ['addr', 'add', `${inner}/24`, 'dev', ifname]);
  ns.run('ip', ['link', 'set', ifname, 'up']);
  return { ifname, publicKey: keys.publicKey };
}

function latestHandshake(ns: Netns, ifname: string, publicKey: string): number {
  const line = ns.run('wg', ['show', ifname, 'latest-handshakes']).split('\n').find((l) => l.startsWith(publicKey));
  return Number(line?.split('\t')[1] ?? 0);
}

function transfer(ns: Netns, ifname: string, publicKey: string): [number, number] {
  const line = ns.run('wg', ['show', ifname, 'transfer']).split('\n').find((l) => l.startsWith(publicKey));
  const [, rx, tx] = line?.split('\t') ?? [];
  return [Number(rx), Number(tx)];
}

test('ferryd --up under a NOTIFY_SOCKET: READY only when configured, STATUS, WATCHDOG at the interval and not while blocked; ExecReload changes one peer and keeps the other session; SIGTERM takes it down', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-service-'));
  chmodSync(dir, 0o700);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ifname = uniqueName('fysv');
  const nsA = netns(t, 'fysa');
  const a = genKey();
  const b = await goPeer(t, nsA, '10.201.0', a.publicKey, '10.77.0.2');
  const c = await goPeer(t, nsA, '10.202.0', a.publicKey, '10.77.0.3');
  const marker = join(dir, 'post-up-done');
  const configText = (cAllowed: string) => `[Interface]
PrivateKey = ${a.privateKey}
ListenPort = 51821
Address = 10.77.0.1/24
PostUp = sleep 0.5; touch ${marker}

[Peer]
PublicKey = ${b.publicKey}
AllowedIPs = 10.77.0.2/32
Endpoint = 10.201.0.2:51822

[Peer]
PublicKey = ${c.publicKey}
AllowedIPs = ${cAllowed}
Endpoint = 10.202.0.2:51822
`;
  const config = join(dir, `${ifname}.conf`);
  writeFileSync(config, configText('10.77.0.3/32'), { mode: 0o600 });

  const notify = await notifyListener(t, join(dir, 'notify.sock'));
  const unit = unitCommands(dir, ['--import', join(REPO, 'test/support/block-loop-on-signal.ts')]);
  const [cmd, ...args] = unit.exec('ExecStart', config);
  assert.deepEqual(args, ['--up', config], 'ExecStart is ferryd --up INSTANCE');
  const env: NodeJS.ProcessEnv = { ...process.env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: String(WATCHDOG_USEC), LOG_LEVEL: 'warn', FERRY_TEST_BLOCK_MS: String(BLOCK_MS) };
  delete env.WATCHDOG_PID;
  // The wrapper execs node, and ip netns exec execs the wrapper: the child's pid is ferryd's (what WATCHDOG_PID would name).
  const ferryd: ChildProcess = spawn('ip', ['netns', 'exec', nsA.name, cmd, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  ferryd.stdout?.on('data', (d) => (output += d));
  ferryd.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => ferryd.on('exit', (code) => resolve(code)));
  t.after(() => {
    ferryd.kill('SIGKILL');
    nsA.tryRun('ip', ['link', 'del', ifname]);
    rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
    rmSync(`/run/ferry/${ifname}.sock`, { force: true });
    if (process.env.FERRY_TEST_LOG) process.stderr.write(`--- ferryd --up output:\n${output}\n`);
  });

  // READY=1: checked the moment it arrives against the state it promises.
  const ready = await notify.waitFor((n) => has(n, 'READY=1'), 'READY=1');
  assert.ok(existsSync(marker), `PostUp, the last step of ferry up, had finished before READY=1\n${output}`);
  assert.ok(statSync(marker).mtimeMs <= ready.wallMs + 5, 'the marker predates READY=1');
  const link = nsA.run('ip', ['-o', 'addr', 'show', 'dev', ifname]);
  assert.match(link, /inet 10\.77\.0\.1\/24 /, 'the address was added before READY=1');
  assert.match(nsA.run('ip', ['link', 'show', 'dev', ifname]), /<[^>]*\bUP\b/);
  assert.equal(nsA.run('wg', ['show', ifname, 'peers']).trim().split('\n').sort().join(), [b.publicKey, c.publicKey].sort().join(), 'the whole config was applied');
  assert.equal(notify.received.filter((n) => has(n, 'READY=1')).length, 1);
  assert.equal(notify.received.indexOf(ready), notify.received.findIndex((n) => n.text.includes('READY')), 'nothing claimed readiness earlier');
  assert.match(assignments(ready).get('STATUS') ?? '', new RegExp(`^${ifname}: wireguard, 2 peers, 0 with a handshake; `));

  // Handshakes with both peers; STATUS follows.
  ping(nsA, '10.77.0.2', 2);
  ping(nsA, '10.77.0.3', 2);
  await notify.waitFor((n) => /^STATUS=.*2 peers, 2 with a handshake/m.test(n.text), 'STATUS with 2 handshakes', 5000);

  // WATCHDOG=1 every WATCHDOG_USEC/2 while the loop turns.
  const since = notify.received.length;
  await sleep(2000);
  const beats = notify.received.slice(since).filter((n) => has(n, 'WATCHDOG=1'));
  const gaps = beats.slice(1).map((n, i) => n.monoMs - beats[i].monoMs);
  assert.ok(beats.length >= 7, `WATCHDOG=1 keeps coming (${beats.length} in 2 s)`);
  const median = [...gaps].sort((x, y) => x - y)[Math.floor(gaps.length / 2)];
  assert.ok(median >= 150 && median <= 260, `about every ${WATCHDOG_USEC / 2000} ms (median gap ${median} ms)`);
  assert.ok(Math.max(...gaps) < WATCHDOG_USEC / 1000, `never as late as systemd's deadline (max gap ${Math.max(...gaps)} ms)`);

  // A blocked event loop sends none, then they resume.
  const beforeBlock = notify.received.length;
  process.kill(ferryd.pid ?? 0, 'SIGUSR2');
  await sleep(BLOCK_MS + 800);
  const around = notify.received.slice(beforeBlock - 1).filter((n) => has(n, 'WATCHDOG=1'));
  const blockGaps = around.slice(1).map((n, i) => n.monoMs - around[i].monoMs);
  assert.ok(Math.max(...blockGaps) >= BLOCK_MS - 100, `no WATCHDOG=1 while the loop was blocked (gaps ${blockGaps.join(', ')} ms)`);
  assert.ok(blockGaps.at(-1)! < WATCHDOG_USEC / 1000, 'they resume afterwards');

  // ExecReload: C gets another allowed range; B keeps its session (same handshake, counters not reset).
  await sleep(1100); // latest-handshake has 1 s resolution: a new handshake would show
  const hsB = latestHandshake(nsA, ifname, b.publicKey);
  const [rxB] = transfer(nsA, ifname, b.publicKey);
  assert.ok(hsB > 0 && rxB > 0);
  writeFileSync(config, configText('10.77.0.3/32, 10.99.0.0/24'), { mode: 0o600 });
  const beforeReload = notify.received.length;
  const [rcmd, ...rargs] = unit.exec('ExecReload', ifname);
  const reload = spawnSync('ip', ['netns', 'exec', nsA.name, rcmd, ...rargs], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(reload.status, 0, reload.stderr);
  assert.equal(reload.stdout, `${ifname}: 1 peer changed\n`);
  const allowed = nsA.run('wg', ['show', ifname, 'allowed-ips']);
  assert.match(allowed, new RegExp(`^${c.publicKey.replace(/[+/]/g, '\\$&')}\t10\\.77\\.0\\.3/32 10\\.99\\.0\\.0/24$`, 'm'));
  await notify.waitFor((n) => notify.received.indexOf(n) >= beforeReload && has(n, 'READY=1'), 'READY=1 after the reload', 5000);
  const reloadNotes = notify.received.slice(beforeReload).filter((n) => !has(n, 'WATCHDOG=1'));
  assert.ok(has(reloadNotes[0], 'RELOADING=1') && /^MONOTONIC_USEC=\d+$/m.test(reloadNotes[0].text), 'RELOADING=1 with MONOTONIC_USEC first');
  assert.ok(reloadNotes.some((n) => has(n, 'READY=1')), 'then READY=1');
  ping(nsA, '10.77.0.2', 2);
  assert.equal(latestHandshake(nsA, ifname, b.publicKey), hsB, 'B kept its session: no new handshake');
  assert.ok(transfer(nsA, ifname, b.publicKey)[0] > rxB, "B's counters went on from where they were");

  // A file with an error changes nothing, and says where (the same answer `ferry reload` prints).
  writeFileSync(config, `${configText('10.77.0.3/32')}ListenPort = 1\n`, { mode: 0o600 });
  const bad = (await controlRequest(ifname, 'reload')) as { ok: boolean; errors: string[] };
  assert.equal(bad.ok, false);
  assert.deepEqual(bad.errors, [`${config}:16: ListenPort belongs in [Interface], not [Peer]`]);
  assert.match(nsA.run('wg', ['show', ifname, 'allowed-ips']), /10\.99\.0\.0\/24/);

  // SIGTERM: STOPPING=1, ferry down (with the config last applied: the file is bad now), exit 0, nothing left.
  ferryd.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  assert.ok(notify.received.some((n) => has(n, 'STOPPING=1')));
  assert.equal(nsA.tryRun('ip', ['link', 'show', 'dev', ifname]), false, 'the interface is gone');
  assert.equal(existsSync(`/var/run/wireguard/${ifname}.sock`), false);
  assert.equal(existsSync(`/run/ferry/${ifname}.sock`), false);
});
