import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { ProbeHttpServer } from './http-server.js';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';

async function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | null; body: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: r.status, type: r.headers.get('content-type'), body: await r.text() };
}

function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
    sock.write(text);
  });
}

test('probe server: /livez, /readyz 503 then 200 with the reasons, /metrics, 404, 405, HEAD, a failing source is 500', async (t) => {
  let ready = { ready: false, reasons: ['wireguard: no handshake completed yet'] };
  let failMetrics = false;
  const errors: string[] = [];
  const server = await ProbeHttpServer.listen({
    host: '127.0.0.1',
    port: 0,
    source: {
      readiness: () => ready,
      metrics: () => {
        if (failMetrics) throw new Error('boom');
        return 'ferry_up 1\n';
      },
    },
    onError: (m) => errors.push(m),
  });
  t.after(() => server.close());
  const port = server.port;
  assert.deepEqual(await get(port, '/livez'), { status: 200, type: 'text/plain; charset=utf-8', body: 'ok\n' });
  assert.deepEqual(await get(port, '/readyz'), { status: 503, type: 'text/plain; charset=utf-8', body: 'not ready: wireguard: no handshake completed yet\n' });
  ready = { ready: true, reasons: [] };
  assert.deepEqual(await get(port, '/readyz?verbose'), { status: 200, type: 'text/plain; charset=utf-8', body: 'ready\n' });
  assert.deepEqual(await get(port, '/metrics'), { status: 200, type: PROMETHEUS_CONTENT_TYPE, body: 'ferry_up 1\n' });
  assert.equal((await get(port, '/')).status, 404);
  assert.equal((await get(port, '/livez', 'POST')).status, 405);
  assert.deepEqual(await get(port, '/livez', 'HEAD'), { status: 200, type: 'text/plain; charset=utf-8', body: '' });
  failMetrics = true;
  assert.equal((await get(port, '/metrics')).status, 500);
  assert.deepEqual(errors, ['/metrics: boom']);
  // Garbage is answered 400 and the server goes on.
  assert.match(await raw(port, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.equal((await get(port, '/livez')).status, 200);
  assert.equal(server.errors, 2);
});

test('probe server: the port must be free', async (t) => {
  const a = await ProbeHttpServer.listen({ host: '127.0.0.1', port: 0, source: { readiness: () => ({ ready: true, reasons: [] }), metrics: () => '' } });
  t.after(() => a.close());
  await assert.rejects(ProbeHttpServer.listen({ host: '127.0.0.1', port: a.port, source: { readiness: () => ({ ready: true, reasons: [] }), metrics: () => '' } }), { code: 'EADDRINUSE' });
});
