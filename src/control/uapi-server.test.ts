import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

// Async on purpose: the server answering wg runs in this very process.
const run = promisify(execFile);
import { UapiServer } from './uapi-server.js';
import { UapiErrno, UapiError } from '../uapi/errors.js';
import { allowedIpsOf, newPeer, type Device } from '../uapi/model.js';
import { uapiSocketPath } from '../uapi/socket-path.js';
import { requireHost, uniqueName } from '../../test/support/netns.js';
import { parsePrefix } from '../text/prefix.js';

const PRIV = 'e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a';
const PEER = 'b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33';

class RecordingBackend {
  changes: Device[] = [];
  failWith: UapiError | null = null;
  state: Device = {
    privateKey: Buffer.from(PRIV, 'hex'),
    listenPort: 51820,
    fwmark: 0,
    replacePeers: false,
    peers: [
      {
        ...newPeer(Buffer.from(PEER, 'hex')),
        endpoint: { family: 4, address: '192.0.2.1', port: 51820 },
        lastHandshakeSec: 0n,
        lastHandshakeNsec: 0n,
        txBytes: 0n,
        rxBytes: 0n,
        persistentKeepaliveInterval: 25,
        allowedIps: allowedIpsOf([parsePrefix('10.0.0.0/24')]),
      },
    ],
  };
  get(): Device {
    return this.state;
  }
  set(change: Device): void {
    if (this.failWith) throw this.failWith;
    this.changes.push(change);
  }
}

/** Sends raw bytes, returns everything the server wrote until it closed or went quiet. */
function exchange(path: string, data: string, quietMs = 150): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let out = '';
    let timer: NodeJS.Timeout;
    const done = () => {
      clearTimeout(timer);
      c.destroy();
      resolve(out);
    };
    c.setEncoding('utf8');
    c.on('data', (d) => {
      out += d;
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    c.on('close', done);
    c.on('error', reject);
    c.on('connect', () => {
      c.write(data);
      timer = setTimeout(done, quietMs * 4);
    });
  });
}

async function withServer(fn: (path: string, backend: RecordingBackend) => Promise<void>, opts: { idleTimeoutMs?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-uapi-'));
  const path = join(dir, 'sub', 'fy0.sock');
  const backend = new RecordingBackend();
  const server = await UapiServer.listen({ path, backend, ...opts });
  try {
    await fn(path, backend);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('get answers the state and errno=0; the socket is root-only', async () => {
  await withServer(async (path) => {
    assert.equal(statSync(path).mode & 0o077, 0, 'no group/other access');
    const out = await exchange(path, 'get=1\n\n');
    assert.match(out, /^private_key=e84b.*\nlisten_port=51820\npublic_key=b859/s);
    assert.match(out, /persistent_keepalive_interval=25\nallowed_ip=10\.0\.0\.0\/24\nerrno=0\n\n$/);
  });
});

test('set parses the whole operation and answers errno=0; several operations per connection', async () => {
  await withServer(async (path, backend) => {
    const out = await exchange(path, `set=1\nlisten_port=1234\npublic_key=${PEER}\nallowed_ip=10.9.0.0/16\n\nget=1\n\n`);
    assert.match(out, /^errno=0\n\n/);
    assert.match(out, /errno=0\n\n$/);
    assert.equal(backend.changes.length, 1);
    assert.equal(backend.changes[0].listenPort, 1234);
    assert.equal(backend.changes[0].peers[0].allowedIps[0].prefix.cidr, 16);
  });
});

test('malformed input is answered with an errno and applies nothing', async () => {
  await withServer(async (path, backend) => {
    assert.equal(await exchange(path, 'set=1\nbogus_key=1\n\n'), `errno=${UapiErrno.Invalid}\n\n`);
    assert.equal(await exchange(path, `set=1\nlisten_port=1\nprivate_key=${'zz'.repeat(32)}\n\n`), `errno=${UapiErrno.Invalid}\n\n`);
    assert.equal(await exchange(path, 'delete=1\n\n'), `errno=${UapiErrno.Invalid}\n\n`);
    assert.equal(await exchange(path, 'get=1\nextra\n\n'), `errno=${UapiErrno.Invalid}\n\n`);
    assert.equal(await exchange(path, `set=1\nlisten_port=${'9'.repeat(100_000)}\n\n`), `errno=${UapiErrno.Protocol}\n\n`);
    assert.equal(backend.changes.length, 0, 'nothing applied');
    backend.failWith = new UapiError(UapiErrno.AddressInUse, 'port taken');
    assert.equal(await exchange(path, 'set=1\nlisten_port=53\n\n'), `errno=${UapiErrno.AddressInUse}\n\n`);
    // The server still answers after all that.
    assert.match(await exchange(path, 'get=1\n\n'), /errno=0\n\n$/);
  });
});

test('a half-open connection is closed after the idle timeout and blocks nobody', async () => {
  await withServer(
    async (path) => {
      const c = createConnection(path);
      await new Promise((r) => c.on('connect', r));
      c.write('set=1\nlisten_port=1');
      let answer = '';
      c.setEncoding('utf8');
      c.on('data', (d) => (answer += d));
      const closed = new Promise((r) => c.on('close', r));
      assert.match(await exchange(path, 'get=1\n\n'), /errno=0/);
      await closed;
      assert.equal(answer, `errno=${UapiErrno.TimedOut}\n\n`, 'the unfinished operation is answered');
    },
    { idleTimeoutMs: 200 },
  );
});

test('a second server on a live socket is refused; a stale socket file is replaced', async () => {
  await withServer(async (path) => {
    await assert.rejects(UapiServer.listen({ path, backend: new RecordingBackend() }), (e: UapiError) => e.errno === UapiErrno.AddressInUse);
  });
  const dir = mkdtempSync(join(tmpdir(), 'ferry-uapi-'));
  const path = join(dir, 'stale.sock');
  writeFileSync(path, '');
  const server = await UapiServer.listen({ path, backend: new RecordingBackend() });
  assert.match(await exchange(path, 'get=1\n\n'), /errno=0/);
  await server.close();
  assert.ok(!existsSync(path), 'close removes the socket file');
  rmSync(dir, { recursive: true, force: true });
});

test('the real wg tool reads and writes through the socket', async (t) => {
  if (!requireHost(t, ['wg'])) return;
  const name = uniqueName('fyu');
  const backend = new RecordingBackend();
  const server = await UapiServer.listen({ path: uapiSocketPath(name), backend });
  t.after(() => server.close());
  const { stdout: dump } = await run('wg', ['show', name, 'dump']);
  const [dev, peer] = dump.trim().split('\n').map((l) => l.split('\t'));
  assert.equal(dev[0], Buffer.from(PRIV, 'hex').toString('base64'));
  assert.equal(dev[2], '51820');
  assert.equal(peer[0], Buffer.from(PEER, 'hex').toString('base64'));
  assert.equal(peer[2], '192.0.2.1:51820');
  assert.equal(peer[3], '10.0.0.0/24');
  assert.equal(peer[7], '25');
  const pub = Buffer.from(PEER, 'hex').toString('base64');
  await run('wg', ['set', name, 'listen-port', '4242', 'peer', pub, 'allowed-ips', '10.1.0.0/16,fd00::/64', 'endpoint', '[fd00::9]:7']);
  const c = backend.changes.at(-1) as Device;
  assert.equal(c.listenPort, 4242);
  assert.equal(c.peers[0].replaceAllowedIps, true);
  assert.deepEqual(c.peers[0].endpoint, { family: 6, address: 'fd00::9', port: 7 });
  backend.failWith = new UapiError(UapiErrno.AddressInUse, 'port taken');
  await assert.rejects(run('wg', ['set', name, 'listen-port', '1']), /Address already in use/);
});
