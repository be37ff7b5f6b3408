/**
 * ferryd as a container sidecar, in a network namespace standing in for the pod and a
 * mount namespace whose /dev is a fresh tmpfs without /dev/net/tun, as a container runtime
 * may leave it: FERRY_SIDECAR=1, FERRY_CONFIG naming a file whose key comes from a
 * PrivateKeyFile. An application process in the same namespace reaches a service behind a
 * remote wireguard-go peer through the tunnel; /readyz follows the handshake and the stop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { netns, requireHost, uniqueName, vethPair, type Netns } from '../support/netns.js';
import { genKey, REPO, setconf, startDaemon } from '../support/wg.js';

const TOOLS = ['wg', 'wireguard-go', 'ncat', 'unshare', 'nsenter', 'setpriv', 'mount', 'mknod'];
const FERRYD = join(REPO, 'src/cli/ferryd.ts');
const HTTP_PORT = 9586;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A client inside the namespace (the port listens on the pod's loopback): one node process answering GETs. */
function prober(t: Parameters<typeof netns>[0], ns: Netns): (path: string) => Promise<{ status: number; body: string }> {
  const script = `
    const rl = require('node:readline').createInterface({ input: process.stdin });
    rl.on('line', (path) => fetch('http://127.0.0.1:${HTTP_PORT}' + path).then(
      async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })),
      () => console.log(JSON.stringify({ status: 0, body: '' }))));`;
  const child = ns.spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => void child.kill('SIGKILL'));
  const answers: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => answers.shift()?.(line));
  return (path) =>
    new Promise((resolve) => {
      answers.push((line) => resolve(JSON.parse(line) as { status: number; body: string }));
      child.stdin!.write(`${path}\n`);
    });
}

async function waitFor<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 15_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}

/**
 * The command a container would run, in the pod's network namespace and a mount namespace
 * of its own whose /dev is an empty tmpfs with only null, zero, random and urandom.
 */
function podCommand(ns: Netns, wrap: string[] = []): string[] {
  const devSetup = 'mount -t tmpfs -o mode=755 ferry-test-dev /dev && for d in null:1:3 zero:1:5 random:1:8 urandom:1:9; do IFS=: read n a b <<EOF\n$d\nEOF\nmknod -m 666 /dev/$n c $a $b; done && exec "$@"';
  return ['ip', 'netns', 'exec', ns.name, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', devSetup, 'sh', ...wrap, process.execPath, '--import', 'tsx', FERRYD];
}

test('sidecar: /dev/net/tun made in a private /dev, FERRY_CONFIG with a key file, the app reaches a service through the tunnel, /readyz 503→200→503, SIGTERM exits 0 leaving nothing', async (t) => {
  if (!requireHost(t, TOOLS)) return;
  const dir = mkdtempSync(join(tmpdir(), 'ferry-sidecar-'));
  chmodSync(dir, 0o700);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const ifname = uniqueName('fyside');
  const pod = netns(t, 'fypod');
  const remote = netns(t, 'fyrem');
  vethPair(pod, '10.201.0.1/24', remote, '10.201.0.2/24');

  // The remote side: wireguard-go, and a TCP service at 10.88.0.1:8080 behind it.
  const own = genKey();
  const { ifname: remoteIf } = await startDaemon(t, remote, 'wireguard-go');
  const rk = genKey();
  setconf({ ns: remote, ifname: remoteIf }, `[Interface]\nPrivateKey = ${rk.privateKey}\nListenPort = 51822\n\n[Peer]\nPublicKey = ${own.publicKey}\nAllowedIPs = 10.77.0.1/32\n`);
  remote.run('ip', ['addr', 'add', '10.77.0.2/24', 'dev', remoteIf]);
  remote.run('ip', ['addr', 'add', '10.88.0.1/32', 'dev', remoteIf]);
  remote.run('ip', ['link', 'set', remoteIf, 'up']);
  remote.spawn('ncat', ['-l', '-k', '10.88.0.1', '8080', '--sh-exec', 'echo service-ok']);

  // The pod's files: the config (a ConfigMap) and the key (a Secret), mounted read-only in a real pod.
  const keyFile = join(dir, 'private-key');
  writeFileSync(keyFile, `${own.privateKey}\n`, { mode: 0o600 });
  const config = join(dir, `${ifname}.conf`);
  writeFileSync(
    config,
    `[Interface]\nPrivateKeyFile = ${keyFile}\nListenPort = 51821\nAddress = 10.77.0.1/24\nPreDown = sleep 1\n\n[Ferry]\nHttp = 127.0.0.1:${HTTP_PORT}\n\n[Peer]\nPublicKey = ${rk.publicKey}\nAllowedIPs = 10.77.0.2/32, 10.88.0.0/24\nEndpoint = 10.201.0.2:51822\n`,
    { mode: 0o600 },
  );
  const env: NodeJS.ProcessEnv = { ...process.env, FERRY_SIDECAR: '1', FERRY_CONFIG: config, LOG_LEVEL: 'info' };
  delete env.NOTIFY_SOCKET;
  delete env.FERRY_HTTP;

  // Without CAP_MKNOD it cannot make the node, and says what to do.
  const [cmd0, ...args0] = podCommand(pod, ['setpriv', '--bounding-set', '-mknod']);
  const denied = spawnSync(cmd0, args0, { cwd: REPO, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(denied.status, 1, denied.stderr);
  assert.match(denied.stderr, /\/dev\/net\/tun is missing and cannot be made \(mknod: Operation not permitted\): give the container CAP_MKNOD, or mount the host's \/dev\/net\/tun/);

  const [cmd, ...args] = podCommand(pod);
  const sidecar: ChildProcess = spawn(cmd, args, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  sidecar.stdout?.on('data', (d) => (output += d));
  sidecar.stderr?.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => sidecar.on('exit', (code) => resolve(code)));
  t.after(() => {
    sidecar.kill('SIGKILL');
    pod.tryRun('ip', ['link', 'del', ifname]);
    rmSync(`/var/run/wireguard/${ifname}.sock`, { force: true });
    rmSync(`/run/ferry/${ifname}.sock`, { force: true });
    if (process.env.FERRY_TEST_LOG) process.stderr.write(`--- sidecar output:\n${output}\n`);
  });

  const httpGet = prober(t, pod);
  await waitFor(async () => (await httpGet('/livez')).status, (s) => s === 200, 'the sidecar to answer /livez');
  // Up, but no handshake yet: nothing has been sent, and there is no keepalive.
  const before = await waitFor(() => httpGet('/readyz'), (r) => r.body.includes('handshake'), 'the interface to be up');
  assert.deepEqual(before, { status: 503, body: 'not ready: wireguard: no handshake completed yet\n' });
  assert.match(output, /"msg":"created \/dev\/net\/tun \(character device 10:200\)"/);
  const node = spawnSync('nsenter', ['-t', String(sidecar.pid), '-m', 'stat', '-c', '%t:%T %F %a', '/dev/net/tun'], { encoding: 'utf8' });
  assert.equal(node.stdout.trim(), 'a:c8 character special file 666', 'inside the pod: the node the sidecar made');
  assert.match(pod.run('ip', ['-o', 'addr', 'show', 'dev', ifname]), /inet 10\.77\.0\.1\/24 /);
  assert.match(pod.run('ip', ['route', 'show', 'dev', ifname]), /^10\.88\.0\.0\/24 /m, 'ferry up added the route to the service');

  // The application: a process in the pod's namespace, talking to the service by its address.
  const app = await new Promise<string>((resolve) => {
    const c = pod.spawn('ncat', ['--recv-only', '-w', '5', '10.88.0.1', '8080']);
    let out = '';
    c.stdout?.on('data', (d) => (out += d));
    c.on('close', () => resolve(out));
  });
  assert.equal(app.trim(), 'service-ok');
  const after = await waitFor(() => httpGet('/readyz'), (r) => r.status === 200, '/readyz 200 after the handshake', 5000);
  assert.equal(after.body, 'ready\n');
  const metrics = await httpGet('/metrics');
  assert.equal(metrics.status, 200);
  assert.match(metrics.body, new RegExp(`^ferry_packets_total\\{interface="${ifname}",port="udp",direction="rx"\\} [1-9]\\d*$`, 'm'));
  assert.match(metrics.body, new RegExp(`^wireguard_latest_handshake_seconds\\{interface="${ifname}",public_key="[^"]+",allowed_ips="[^"]*"\\} [1-9]\\d*$`, 'm'));

  // SIGTERM: not ready at once (PreDown takes a second), then down and exit 0.
  sidecar.kill('SIGTERM');
  const stopping = await waitFor(() => httpGet('/readyz'), (r) => r.status !== 200, '/readyz to turn 503', 3000);
  assert.deepEqual(stopping, { status: 503, body: 'not ready: shutting down\n' });
  assert.equal(await exited, 0, output);
  assert.equal(pod.tryRun('ip', ['link', 'show', 'dev', ifname]), false, 'the interface is gone');
  assert.equal(pod.run('ip', ['route', 'show', '10.88.0.0/24']).trim(), '', 'its route too');
  assert.equal(existsSync(`/var/run/wireguard/${ifname}.sock`), false);
  assert.equal(existsSync(`/run/ferry/${ifname}.sock`), false);
  assert.equal((await httpGet('/livez')).status, 0, 'the port is closed');
  assert.ok(existsSync('/dev/net/tun'), "the host's /dev was not touched");
});

test('sidecar: FERRY_SIDECAR=1 without FERRY_CONFIG says what it needs', (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, FERRY_SIDECAR: '1' };
  delete env.FERRY_CONFIG;
  const r = spawnSync(process.execPath, ['--import', 'tsx', FERRYD], { cwd: REPO, env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /the sidecar needs FERRY_CONFIG, the path of its config file/);
  t.diagnostic('no root needed');
});
