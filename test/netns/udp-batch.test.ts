/**
 * Batched UDP between two namespaces joined by a veth: a sender process in one sends
 * 100,000 sequence-numbered datagrams with sendBatch, a receiver process in the other
 * reads them with recvBatch. None may be lost, reordered, truncated or corrupted: with
 * UDP GSO/GRO off, on with nothing to group, on with runs that are sent and received
 * coalesced, on with runs too large for the path MTU (the GSO fallback), and on with
 * runs of normal and jumbo datagrams (one refusal teaches a size limit; GSO stays on).
 * Last, a link slowed by a qdisc and a small send buffer make sendBatch meet EAGAIN: the
 * unsent rest of each batch waits for whenWritable and none is lost or sent twice.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { netns, requireHost, vethPair } from '../support/netns.js';
import { nextJson, startHelper } from './helpers/child.js';

const TOTAL = 100_000;

interface RoundTrip {
  /** Subnet 10.77.N.0/24 (unique per test, so tests may run side by side). */
  net: number;
  shape: 'varied' | 'runs' | 'large' | 'mixed';
  offload: boolean;
  total: number;
  /** Veth MTU (default 1500). */
  mtu?: number;
}

async function roundTrip(t: TestContext, rt: RoundTrip) {
  const nsA = netns(t, 'fyua');
  const nsB = netns(t, 'fyub');
  const { a, b } = vethPair(nsA, `10.77.${rt.net}.1/24`, nsB, `10.77.${rt.net}.2/24`);
  if (rt.mtu !== undefined) {
    nsA.run('ip', ['link', 'set', a, 'mtu', String(rt.mtu)]);
    nsB.run('ip', ['link', 'set', b, 'mtu', String(rt.mtu)]);
  }
  const started = Date.now();
  const extra = [rt.shape, rt.offload ? '1' : '0'];
  const receiver = startHelper(nsB, 'udp-receiver.ts', [`10.77.${rt.net}.2`, String(rt.total), ...extra]);
  const { port } = await nextJson(receiver, 'receiver', 15_000);
  assert.equal(typeof port, 'number');
  const sender = startHelper(nsA, 'udp-sender.ts', [`10.77.${rt.net}.1`, `10.77.${rt.net}.2`, String(port), String(rt.total), ...extra]);

  const sent = await nextJson(sender, 'sender', 30_000);
  assert.equal(sent.error, undefined, `sender failed: ${JSON.stringify(sent)}; stderr: ${sender.stderr()}`);
  const got = await nextJson(receiver, 'receiver', 5_000);
  const elapsed = Date.now() - started;
  t.diagnostic(`sender ${JSON.stringify(sent)} receiver ${JSON.stringify(got)} total ${elapsed} ms`);
  assert.equal(sent.sent, rt.total);
  assert.deepEqual(
    { received: got.received, outOfOrder: got.outOfOrder, badPayload: got.badPayload, truncated: got.truncated },
    { received: rt.total, outOfOrder: 0, badPayload: 0, truncated: 0 },
  );
  assert.ok((got.batches as number) < rt.total / 2, `received in batches (${got.batches} reads for ${rt.total} datagrams)`);
  assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
  return { sent, got };
}

test('100,000 datagrams in batches across a veth, offloads off: none lost, none reordered', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  const { sent, got } = await roundTrip(t, { net: 0, shape: 'varied', offload: false, total: TOTAL });
  assert.deepEqual([sent.gso, sent.gsoMessages, got.gro, got.groMessages], [false, 0, false, 0]);
});

test('100,000 datagrams with UDP GSO and GRO on, sizes changing every datagram: the same result', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  const { sent, got } = await roundTrip(t, { net: 1, shape: 'varied', offload: true, total: TOTAL });
  assert.deepEqual([sent.gso, got.gro], [true, true]);
  // No two consecutive datagrams have one size; only where the size wraps (1195 -> 8) may a
  // datagram take the next, shorter one along as its short last segment.
  assert.equal(sent.gsoDatagrams, 2 * (sent.gsoMessages as number), 'only pairs were grouped');
  assert.ok((sent.gsoMessages as number) < TOTAL / 50, `GSO messages: ${sent.gsoMessages}`);
  assert.equal(got.groDatagrams, sent.gsoDatagrams, 'each pair arrived coalesced and was split');
});

test('100,000 datagrams in runs of equal sizes with GSO and GRO: carried coalesced, delivered one by one', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  const { sent, got } = await roundTrip(t, { net: 2, shape: 'runs', offload: true, total: TOTAL });
  assert.equal(sent.gsoFallbacks, 0);
  // Runs of 37 sent in bursts of 64: most datagrams leave in GSO messages, and the veth
  // hands those to the GRO socket whole.
  assert.ok((sent.gsoDatagrams as number) > TOTAL / 2, `datagrams sent coalesced: ${sent.gsoDatagrams}`);
  assert.ok((got.groDatagrams as number) > TOTAL / 2, `datagrams received coalesced: ${got.groDatagrams}`);
});

test('GSO runs larger than the path MTU allows go out one by one (fragmented), none lost', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  // 1400-byte datagrams over a 1280-byte MTU: the kernel refuses them as GSO segments
  // (EMSGSIZE on 6.14+, EINVAL before, which also turns GSO off), so each message is
  // resent plainly and IP fragments every datagram.
  const { sent, got } = await roundTrip(t, { net: 3, shape: 'large', offload: true, total: 5_000, mtu: 1280 });
  assert.ok((sent.gsoFallbacks as number) >= 1, `fallbacks: ${sent.gsoFallbacks}`);
  assert.equal(sent.gsoDatagrams, 0);
  assert.equal(got.groMessages, 0);
});

test('runs of normal and too-large datagrams: one refusal teaches the size limit, GSO stays on for the normal runs', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, [])) return;
  // Runs of 1200-byte and 3000-byte datagrams over a 1500-byte MTU. The first 3000-byte
  // run is refused as GSO (EMSGSIZE on 6.14+, EINVAL before) and goes out one by one;
  // from then on datagrams above 2999 bytes are never grouped (no more refusals), while
  // the 1200-byte runs still leave as GSO messages and arrive coalesced.
  const total = 20_000;
  const { sent, got } = await roundTrip(t, { net: 4, shape: 'mixed', offload: true, total, mtu: 1500 });
  assert.equal(sent.gso, true, 'GSO stayed on');
  assert.equal(sent.gsoFallbacks, 1, 'one refused message, not one per large run');
  assert.equal(sent.gsoSizeLimit, 2999);
  const large = total / 2;
  assert.ok((sent.gsoOversize as number) > large * 0.9, `large datagrams sent alone: ${sent.gsoOversize}`);
  assert.ok((sent.gsoDatagrams as number) > large * 0.5, `normal datagrams sent coalesced: ${sent.gsoDatagrams}`);
  assert.ok((got.groDatagrams as number) > large * 0.5, `datagrams received coalesced: ${got.groDatagrams}`);
});

test('EAGAIN mid-batch on a slowed link: the unsent rest waits for whenWritable and goes again, none lost or sent twice', { timeout: 60_000 }, async (t) => {
  if (!requireHost(t, ['tc'])) return;
  const nsA = netns(t, 'fyua');
  const nsB = netns(t, 'fyub');
  const { a } = vethPair(nsA, '10.77.5.1/24', nsB, '10.77.5.2/24');
  // 40 Mbit/s out of A: datagrams wait in the qdisc, holding the small send buffer.
  nsA.run('tc', ['qdisc', 'add', 'dev', a, 'root', 'tbf', 'rate', '40mbit', 'burst', '16k', 'latency', '400ms']);
  const total = 3000;
  const receiver = startHelper(nsB, 'udp-receiver.ts', ['10.77.5.2', String(total), 'large', '1']);
  const { port } = await nextJson(receiver, 'receiver', 15_000);
  const sender = startHelper(nsA, 'udp-backpressure.ts', ['10.77.5.1', '10.77.5.2', String(port), String(total)]);
  const sent = await nextJson(sender, 'sender', 30_000);
  assert.equal(sent.error, undefined, `sender: ${JSON.stringify(sent)}; stderr: ${sender.stderr()}`);
  const got = await nextJson(receiver, 'receiver', 10_000);
  t.diagnostic(`sender ${JSON.stringify(sent)} receiver ${JSON.stringify(got)}`);
  assert.equal(sent.sent, total);
  assert.equal(sent.sendErrors, 0, 'EAGAIN is not a refusal');
  assert.ok((sent.blocked as number) >= 3, `batches cut short by EAGAIN: ${sent.blocked}`);
  assert.ok((sent.midBatch as number) >= 1, `EAGAIN after the first entry: ${sent.midBatch}`);
  assert.equal(sent.writableCalls, sent.blocked, 'whenWritable called back once per wait');
  assert.equal(sent.emptyWakeups, 0, 'every writable callback could send');
  assert.ok((sent.sendBlocked as number) >= (sent.blocked as number));
  assert.deepEqual(
    { received: got.received, outOfOrder: got.outOfOrder, badPayload: got.badPayload, truncated: got.truncated },
    { received: total, outOfOrder: 0, badPayload: 0, truncated: 0 },
  );
});
