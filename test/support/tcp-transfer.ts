/**
 * A TCP transfer between two namespaces for integration tests: a file of random bytes,
 * sent with ncat to a listener in the other namespace that hashes what it receives.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Netns, run, type Scope } from './netns.js';

/** A file of random bytes and its sha256, removed when the test ends. */
export function randomFile(t: Scope, bytes: number): { path: string; sha256: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-vxlan-data-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'data');
  run('sh', ['-c', `head -c ${bytes} /dev/urandom > ${path}`], { timeout: 60_000 });
  return { path, sha256: run('sha256sum', [path]).split(' ')[0] };
}

/** Sends a file over TCP with ncat from one namespace to a listener in another; returns the sha256 the receiver computed. */
export async function tcpTransfer(from: Netns, to: Netns, address: string, port: number, file: string): Promise<string> {
  const receiver = to.spawn('sh', ['-c', `ncat -l ${address} ${port} --recv-only | sha256sum`]);
  let out = '';
  receiver.stdout?.on('data', (d) => (out += d));
  // 'close', not 'exit': a process can exit before its stdout has been read, and the
  // sender below runs synchronously, so the hash would often still be in the pipe.
  const done = new Promise<number | null>((r) => receiver.on('close', r));
  const until = Date.now() + 10_000;
  while (to.run('ss', ['-ltnH', `sport = :${port}`]).trim() === '') {
    if (Date.now() > until) throw new Error(`ncat did not listen on ${address}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  from.run('sh', ['-c', `ncat --send-only ${address} ${port} < ${file}`], { timeout: 180_000 });
  assert.equal(await done, 0);
  return out.split(' ')[0];
}
