/**
 * Running ferry and the real wg(8) side by side (test/netns/ferry-cli*.test.ts): the same
 * command through both, with the same stdout, stderr and exit code required; a fake
 * userspace daemon with a scripted `get` answer that records every `set`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { uniqueName } from './netns.js';
import { REPO } from './wg.js';

export const TOOLS = ['wg', 'wireguard-go', 'ping'];
export const FERRY = join(REPO, 'src/cli/ferry.ts');
export const SOCK_DIR = '/var/run/wireguard';
export const FIELDS = ['public-key', 'private-key', 'listen-port', 'fwmark', 'peers', 'preshared-keys', 'endpoints', 'allowed-ips', 'latest-handshakes', 'transfer', 'persistent-keepalive', 'dump'];

export interface Result {
  code: number;
  out: string;
  err: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  timeout?: number;
}

export function exec(cmd: string, args: string[], o: RunOptions = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeout ?? 120_000);
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, out: Buffer.concat(out).toString('latin1'), err: Buffer.concat(err).toString('latin1') });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(o.input ?? '');
  });
}

export const ferry = (args: string[], o?: RunOptions) => exec(process.execPath, ['--import', 'tsx', FERRY, ...args], o);
export const wg = (args: string[], o?: RunOptions) => exec('wg', args, o);

/** wg names itself in usage lines and pubkey's errors; ferry says "ferry" there. */
export function asFerry(text: string): string {
  return text.replaceAll('Usage: wg ', 'Usage: ferry ').replace(/^wg: /gm, 'ferry: ');
}

/**
 * Runs ferry, then wg right after, and requires the same stdout, stderr and exit code.
 * Between the two runs a handshake or a counter may change and "5 seconds ago" may turn
 * into "6 seconds ago", so a mismatch is retried a few times; the last try must match.
 */
export async function compareWith(what: string, runWg: () => Promise<Result>, runFerry: () => Promise<Result>): Promise<Result> {
  for (let attempt = 1; ; attempt++) {
    const mine = await runFerry();
    const theirs = await runWg();
    const same = mine.out === theirs.out && mine.err === asFerry(theirs.err) && mine.code === theirs.code;
    if (same || attempt === 6) {
      assert.equal(mine.out, theirs.out, `${what}: stdout`);
      assert.equal(mine.err, asFerry(theirs.err), `${what}: stderr`);
      assert.equal(mine.code, theirs.code, `${what}: exit code`);
      return mine;
    }
  }
}

export function sameAsWg(args: string[], o: RunOptions = {}): Promise<Result> {
  return compareWith(`ferry ${args.join(' ')} ${JSON.stringify(o.env ?? {})}`, () => wg(args, o), () => ferry(args, o));
}

/**
 * A fake userspace daemon: answers `get` with a scripted text, records each `set`.
 * src/cli/wg/ipc.test.ts keeps a smaller twin of it (no hang-up case, its own socket
 * path), a unit test that does not reach into test/support for one loop.
 */
export async function fakeDaemon(t: TestContext, get: string) {
  const name = uniqueName('fyk');
  const state = { name, get, setAnswer: 'errno=0\n\n', sets: [] as string[] };
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('latin1');
    sock.on('error', () => {});
    sock.on('data', (d: string) => {
      buf += d;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const op = buf.slice(0, end + 2);
        buf = buf.slice(end + 2);
        if (op === 'get=1\n\n') {
          // '' stands for a daemon that hangs up without answering.
          if (state.get === '') sock.end();
          else sock.write(state.get);
        }
        else {
          state.sets.push(op);
          sock.write(state.setAnswer);
        }
      }
    });
  });
  const path = `${SOCK_DIR}/${name}.sock`;
  await new Promise<void>((resolve) => server.listen(path, resolve));
  t.after(() => {
    server.close();
    rmSync(path, { force: true });
  });
  return state;
}

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
