/**
 * The per-batch and per-packet methods of the I/O layer allocate nothing (source scan,
 * test/support/no-alloc-scan.ts). Lines that throw are error paths and not scanned.
 * Control-path code (open, start, close, error reporting) is not listed here.
 * The run-time figure (collections per million packets) comes from the benchmarks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bodies, FORBIDDEN } from '../../test/support/no-alloc-scan.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** file -> the hot methods and functions in it. */
const HOT: Record<string, string[]> = {
  'io/udp.ts': ['recvBatch', 'sendBatch', 'whenWritable', 'cancelWhenWritable', 'pause', 'resume', 'liveFd', 'pending'],
  'io/udp-gro-ring.ts': ['pending', 'lastCoalesced', 'lastDatagrams'],
  'io/tun.ts': ['readBatch', 'writeBatch', 'pause', 'resume', 'liveFd', 'readOffloaded'],
  'io/tun-offload.ts': ['read', 'pause', 'resume'],
  'io/tun-offload-read.ts': ['readBatch', 'splitHeld', 'splitOne', 'drop', 'pending'],
  'io/tun-offload-write.ts': ['write', 'writeEach', 'stagePlain', 'flushPlain'],
  'io/reserve.ts': ['refill', 'handOver', 'target'],
  'io/gate.ts': ['whenWritable', 'cancelWhenWritable', 'pause', 'resume', 'starve', 'readableWanted', 'wanted', 'apply', 'fireWritable'],
  'io/poll.ts': ['update', 'rearm'],
  'io/endpoint.ts': ['endpointEquals', 'endpointRecordEquals', 'copyEndpoint', 'hasEndpointLocal', 'clearEndpointLocal'],
  'buffer/pool.ts': ['acquire', 'acquireInto', 'release', 'releaseMany', 'whenAvailable', 'cancelWhenAvailable', 'countExhausted', 'poisonSlot', 'debugOnAcquire', 'slotBase', 'capacityOf'],
  'buffer/slot-waiters.ts': ['add', 'cancel', 'wake', 'takeReady'],
  'buffer/batch.ts': ['push', 'setEndpoint', 'clear'],
};

test('hot-path methods of src/io and src/buffer allocate nothing', () => {
  const found: string[] = [];
  let scanned = 0;
  for (const [file, names] of Object.entries(HOT)) {
    const all = bodies(readFileSync(join(root, file), 'utf8'));
    for (const name of names) {
      const fn = all.find((b) => b.name === name);
      assert.ok(fn, `${file}: ${name} not found`);
      scanned++;
      for (const line of fn.body.split('\n')) {
        if (/\bthrow\b/.test(line)) continue;
        for (const [re, what] of FORBIDDEN) if (re.test(line)) found.push(`${file} ${name}: ${what}: ${line.trim()}`);
      }
    }
  }
  assert.ok(scanned >= 40, `scanned ${scanned}`);
  assert.deepEqual(found, []);
});
