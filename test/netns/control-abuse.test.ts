/**
 * Hostile control input (issue #14): a burst of connections to ferryd's UAPI and control
 * sockets that send nothing, send garbage or hang up half-way. The daemon keeps its
 * connections and memory bounded, `wg show` and `ferry status` still answer, and the
 * tunnel keeps carrying traffic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { requireHost } from '../support/netns.js';
import { ping, REPO, wgPair } from '../support/wg.js';

const IDLE = 1000;

function connect(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

test(`${IDLE} idle connections on each socket, garbage and half-sent requests: wg show, ferry status and the tunnel still work`, async (t) => {
  if (!requireHost(t, ['wg', 'wireguard-go', 'ping'])) return;
  const { a, b } = await wgPair(t, { left: 'ferry', right: 'wireguard-go' });
  ping(a, b.inner4);
  const uapi = `/var/run/wireguard/${a.ifname}.sock`;
  const control = `/run/ferry/${a.ifname}.sock`;
  const rssBefore = rssKiB(a.pid);

  const held: Socket[] = [];
  t.after(() => {
    for (const s of held) s.destroy();
  });
  for (const path of [uapi, control]) {
    for (let i = 0; i < IDLE; i++) {
      const s = await connect(path).catch(() => null);
      if (s === null) continue;
      s.on('error', () => {});
      held.push(s);
    }
  }
  // Garbage, oversized lines and requests cut off half-way, on both sockets.
  for (const path of [uapi, control]) {
    for (let i = 0; i < 50; i++) {
      const s = await connect(path).catch(() => null);
      if (s === null) continue;
      s.on('error', () => {});
      if (i % 3 === 0) s.end(Buffer.alloc(8192, 0xff));
      else if (i % 3 === 1) s.end('get=1\nlisten_port=');
      else s.end('{"op":"status","id":');
    }
  }

  // The daemon holds at most 256 connections per socket: the quietest idle ones were closed.
  await new Promise((r) => setTimeout(r, 500));
  const open = held.filter((s) => !s.destroyed && !s.closed).length;
  t.diagnostic(`${held.length} connections made, ${open} still open`);
  assert.ok(open <= 2 * 256, `at most 256 idle connections per socket are kept (${open} open)`);

  const show = a.ns.run('wg', ['show', a.ifname, 'peers'], { timeout: 20_000 });
  assert.equal(show.trim(), b.publicKey, 'wg show answers');
  const status = JSON.parse(a.ns.run(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/ferry.ts'), 'status', a.ifname, '--json'], { timeout: 30_000 })) as { peers: number };
  assert.equal(status.peers, 1, 'ferry status answers');
  ping(a, b.inner4);
  const rssAfter = rssKiB(a.pid);
  t.diagnostic(`RSS ${rssBefore} KiB before, ${rssAfter} KiB with ${held.length} connections held`);
  assert.ok(rssAfter - rssBefore < 64 * 1024, `memory stayed bounded (${rssAfter - rssBefore} KiB more)`);
});
