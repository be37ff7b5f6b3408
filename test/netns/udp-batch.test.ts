/**
 * Batched UDP between two namespaces joined by a veth: a sender process in one sends
 * 100,000 sequence-numbered datagrams with sendBatch, a receiver process in the other
 * reads them with recvBatch. None may be lost, reordered, truncated or corrupted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { netns, requireHost, vethPair, type Netns } from '../support/netns.js';

const TOTAL = 100_000;
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const helper = (name: string) => fileURLToPath(new URL(`./helpers/${name}`, import.meta.url));

/** Starts a helper script under node + tsx inside the namespace. */
function startHelper(ns: Netns, script: string, args: string[]): { child: ChildProcess; lines: AsyncIterator<string>; stderr: () => string } {
  const child = ns.spawn(process.execPath, ['--import', 'tsx', helper(script), ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines, stderr: () => err };
}

async function nextJson(h: ReturnType<typeof startHelper>, what: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no output within ${timeoutMs} ms; stderr: ${h.stderr()}`)), timeoutMs);
  });
  try {
    const r = await Promise.race([h.lines.next(), timeout]);
    if (r.done) throw new Error(`${what} exited without output; stderr: ${h.stderr()}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
  }
}

test('100,000 datagrams in batches across a veth: none lost, none reordered', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  const nsA = netns(t, 'fyua');
  const nsB = netns(t, 'fyub');
  vethPair(nsA, '10.77.0.1/24', nsB, '10.77.0.2/24');
  const started = Date.now();

  const receiver = startHelper(nsB, 'udp-receiver.ts', ['10.77.0.2', String(TOTAL)]);
  const { port } = await nextJson(receiver, 'receiver', 15_000);
  assert.equal(typeof port, 'number');
  const sender = startHelper(nsA, 'udp-sender.ts', ['10.77.0.1', '10.77.0.2', String(port), String(TOTAL)]);

  const sent = await nextJson(sender, 'sender', 30_000);
  assert.equal(sent.error, undefined, `sender failed: ${JSON.stringify(sent)}; stderr: ${sender.stderr()}`);
  const got = await nextJson(receiver, 'receiver', 5_000);
  const elapsed = Date.now() - started;
  t.diagnostic(`sender ${JSON.stringify(sent)} receiver ${JSON.stringify(got)} total ${elapsed} ms`);
  assert.equal(sent.sent, TOTAL);
  assert.deepEqual(
    { received: got.received, outOfOrder: got.outOfOrder, badPayload: got.badPayload, truncated: got.truncated },
    { received: TOTAL, outOfOrder: 0, badPayload: 0, truncated: 0 },
  );
  assert.ok((got.batches as number) < TOTAL / 2, `received in batches (${got.batches} reads for ${TOTAL} datagrams)`);
  assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
});
