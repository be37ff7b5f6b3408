import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlServer, ControlErrorCode } from './control-server.js';
import { controlRequest, ControlError } from './control-client.js';

async function withServer(fn: (server: ControlServer) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-ctl-'));
  const server = new ControlServer(join(dir, 'run', 'fy0.sock'), { maxLineBytes: 1024 });
  server.handle('echo', (req) => ({ said: req.text }));
  server.handle('fail', () => {
    throw Object.assign(new Error('it broke'), { code: 'FERRY_TEST' });
  });
  server.handle('count', async (req, events) => {
    for (let i = 0; i < Number(req.n); i++) events({ i });
    return { total: req.n };
  });
  await server.listen();
  try {
    await fn(server);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('requests, errors and streamed events', async () => {
  await withServer(async (server) => {
    assert.equal(statSync(server.path).mode & 0o077, 0, 'root only');
    assert.deepEqual(await controlRequest(server.path, 'echo', { text: 'hi' }), { said: 'hi' });
    assert.deepEqual(await controlRequest(server.path, 'ops'), ['count', 'echo', 'fail', 'ops']);
    await assert.rejects(controlRequest(server.path, 'fail'), (e: ControlError) => e.code === 'FERRY_TEST' && e.message === 'it broke');
    await assert.rejects(controlRequest(server.path, 'nope'), (e: ControlError) => e.code === ControlErrorCode.UnknownOp);
    const events: unknown[] = [];
    assert.deepEqual(await controlRequest(server.path, 'count', { n: 3 }, (e) => events.push(e)), { total: 3 });
    assert.deepEqual(events, [{ i: 0 }, { i: 1 }, { i: 2 }]);
  });
});

test('malformed and oversized requests are answered, the server carries on', async () => {
  await withServer(async (server) => {
    const raw = (data: string) =>
      new Promise<string>((resolve) => {
        const c = createConnection(server.path);
        let out = '';
        c.setEncoding('utf8');
        c.on('data', (d) => (out += d));
        c.on('close', () => resolve(out));
        c.on('connect', () => {
          c.write(data);
          setTimeout(() => c.end(), 100);
        });
      });
    assert.match(await raw('not json\n'), /FERRY_CONTROL_BAD_REQUEST/);
    assert.match(await raw('{"id":3}\n'), /missing \\"op\\"/);
    assert.match(await raw('x'.repeat(5000)), /longer than 1024 bytes/);
    assert.deepEqual(await controlRequest(server.path, 'echo', { text: 'still here' }), { said: 'still here' });
  });
});
