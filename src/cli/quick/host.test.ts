import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SystemHost } from './host.js';

function memoryIo() {
  const io = { out: '', err: '', stdout: { write: (s: string) => (io.out += s) }, stderr: { write: (s: string) => (io.err += s) } };
  return io;
}

test('SystemHost: output passes to io, or is captured; status, input, environment', async () => {
  const io = memoryIo();
  const host = new SystemHost(io);
  assert.deepEqual(await host.exec(['sh', '-c', 'echo out; echo err >&2; exit 3']), { status: 3, stdout: '', stderr: '' });
  assert.equal(io.out, 'out\n');
  assert.equal(io.err, 'err\n');
  assert.deepEqual(await host.exec(['sh', '-c', 'echo out; echo err >&2'], { capture: true }), { status: 0, stdout: 'out\n', stderr: 'err\n' });
  assert.equal((await host.exec(['cat'], { input: 'a\nb\n', capture: true })).stdout, 'a\nb\n');
  const env = await host.exec(['sh', '-c', 'echo "$LC_ALL:${FOO-unset}:${HOME:+home}"'], { capture: true, env: { FOO: 'bar', HOME: undefined } });
  assert.equal(env.stdout, 'C:bar:\n');
  assert.equal(host.has('sh'), true);
  assert.equal(host.has('no-such-program-ferry'), false);
});

test('SystemHost: a missing program is status 127, as in a shell', async () => {
  const io = memoryIo();
  const r = await new SystemHost(io).exec(['no-such-program-ferry', 'x']);
  assert.equal(r.status, 127);
  assert.equal(io.err, 'no-such-program-ferry: command not found\n');
});

test('SystemHost: a background process holding the pipes does not keep exec waiting', async () => {
  const io = memoryIo();
  const started = Date.now();
  const r = await new SystemHost(io).exec(['sh', '-c', 'sleep 4 & echo started'], { capture: true });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'started\n');
  assert.ok(Date.now() - started < 2000, `returned after ${Date.now() - started} ms`);
});
