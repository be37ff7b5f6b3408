/**
 * genkey/genpsk/pubkey against the real wg(8): same output, same errors (wg prints its own
 * name where ferry prints "ferry"), same exit codes. Skipped without wg.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, chmodSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { requireTools } from '../../../test/support/netns.js';
import { MemoryIo } from './cli-io.js';
import { genkeyMain, pubkeyMain } from './genkey.js';

const dir = mkdtempSync(join(tmpdir(), 'ferry-genkey-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function wg(args: string[], input: Buffer): { out: string; err: string; code: number } {
  const r = spawnSync('wg', args, { input });
  return { out: r.stdout.toString('latin1'), err: r.stderr.toString('latin1'), code: r.status ?? -1 };
}

let n = 0;
async function ferryPubkey(input: Buffer): Promise<{ out: string; err: string; code: number }> {
  const file = join(dir, `in${n++}`);
  writeFileSync(file, input);
  const fd = openSync(file, 'r');
  try {
    const io = new MemoryIo({}, undefined, false, fd);
    const code = await pubkeyMain(io, []);
    return { out: io.stdout, err: io.stderr.replaceAll('ferry: ', 'wg: '), code };
  } finally {
    closeSync(fd);
  }
}

const KEY = 'WEgHzFFJ090e1JvySw5ArgqZ4VERpt3re1lb4cIcH1o=';

test('pubkey: output and errors match wg pubkey', async (t) => {
  if (!requireTools(t, ['wg'])) return;
  const inputs: Buffer[] = [
    `${KEY}\n`,
    KEY,
    `${KEY} \t\r\n\n`,
    `${KEY}\0\0\n`,
    `${KEY}x`,
    `${KEY}\n${KEY}\n`,
    KEY.slice(0, 43),
    '',
    ` ${KEY}`,
    `${KEY.slice(0, 42)}B=`,
    `${KEY.slice(0, 43)}A`,
    `${KEY.slice(0, 10)}*${KEY.slice(11)}`,
    'A'.repeat(44),
  ].map((s) => Buffer.from(s, 'latin1'));
  for (const input of inputs) assert.deepEqual(await ferryPubkey(input), wg(['pubkey'], input), JSON.stringify(input.toString('latin1')));
});

test('pubkey agrees with wg on random keys and random bytes', async (t) => {
  if (!requireTools(t, ['wg'])) return;
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constantFrom('', '\n', ' \n'), async (key, tail) => {
      const input = Buffer.from(Buffer.from(key).toString('base64') + tail);
      assert.deepEqual(await ferryPubkey(input), wg(['pubkey'], input));
    }),
    { numRuns: 40 },
  );
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 60 }), async (bytes) => {
      const input = Buffer.from(bytes);
      assert.deepEqual(await ferryPubkey(input), wg(['pubkey'], input));
    }),
    { numRuns: 40 },
  );
});

test('genkey prints a clamped key that wg accepts; genpsk a random one', async (t) => {
  if (!requireTools(t, ['wg'])) return;
  const seen = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const io = new MemoryIo();
    assert.equal(await genkeyMain(io, 'genkey', []), 0);
    assert.match(io.stdout, /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n$/);
    const bytes = Buffer.from(io.stdout, 'base64');
    assert.equal(bytes[0] & 7, 0);
    assert.equal(bytes[31] & 0xc0, 0x40);
    const pub = wg(['pubkey'], Buffer.from(io.stdout));
    assert.equal(pub.code, 0);
    assert.equal((await ferryPubkey(Buffer.from(io.stdout))).out, pub.out);
    seen.add(io.stdout);
    const psk = new MemoryIo();
    assert.equal(await genkeyMain(psk, 'genpsk', []), 0);
    assert.match(psk.stdout, /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=\n$/);
    seen.add(psk.stdout);
  }
  assert.equal(seen.size, 10, 'every key is new');
});

test('genkey warns, like wg, when stdout is a file others can read', async () => {
  const file = join(dir, 'key');
  for (const [mode, warned] of [
    [0o644, true],
    [0o600, false],
  ] as const) {
    writeFileSync(file, '');
    chmodSync(file, mode);
    const fd = openSync(file, 'w');
    try {
      const io = new MemoryIo({}, undefined, false, 0, fd);
      assert.equal(await genkeyMain(io, 'genkey', []), 0);
      assert.equal(io.stderr, warned ? 'Warning: writing to world accessible file.\nConsider setting the umask to 077 and trying again.\n' : '');
    } finally {
      closeSync(fd);
    }
  }
  assert.equal(readFileSync(file, 'utf8'), '');
});

test('key verbs take no arguments', async () => {
  for (const verb of ['genkey', 'genpsk'] as const) {
    const io = new MemoryIo();
    assert.equal(await genkeyMain(io, verb, ['x']), 1);
    assert.equal(io.stderr, `Usage: ferry ${verb}\n`);
  }
  const io = new MemoryIo();
  assert.equal(await pubkeyMain(io, ['x']), 1);
  assert.equal(io.stderr, 'Usage: ferry pubkey\n');
});
