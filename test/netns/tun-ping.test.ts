/**
 * A TUN created here, then moved into a fresh namespace: ping runs inside that
 * namespace towards an address routed into the TUN, and this process answers the echo
 * requests through the fd (batched read, in-place rewrite, batched write).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PacketBatch } from '../../src/buffer/batch.js';
import { BufferPool } from '../../src/buffer/pool.js';
import { isSystemError, type SystemError } from '../../src/errors.js';
import { getLinkMtu, TunDevice } from '../../src/io/tun.js';
import { netns, requireHost, run, uniqueName, type Netns } from '../support/netns.js';

/** RFC 1071 checksum of buf[off, off + len). */
function checksum(buf: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i + 1 < len; i += 2) sum += (buf[off + i] << 8) | buf[off + i + 1];
  if (len & 1) sum += buf[off + len - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Turns an IPv4 ICMP echo request into its reply in place; false for any other packet. */
function toEchoReply(buf: Uint8Array, off: number, len: number): boolean {
  if (len < 28 || buf[off] >> 4 !== 4) return false;
  const ihl = (buf[off] & 0x0f) * 4;
  const total = (buf[off + 2] << 8) | buf[off + 3];
  if (ihl < 20 || total > len || total < ihl + 8 || buf[off + 9] !== 1) return false;
  const icmp = off + ihl;
  if (buf[icmp] !== 8 || buf[icmp + 1] !== 0) return false;
  // Swapping source and destination leaves the IPv4 header checksum as it was.
  for (let i = 0; i < 4; i++) {
    const s = buf[off + 12 + i];
    buf[off + 12 + i] = buf[off + 16 + i];
    buf[off + 16 + i] = s;
  }
  buf[icmp] = 0;
  buf[icmp + 2] = 0;
  buf[icmp + 3] = 0;
  const c = checksum(buf, icmp, total - ihl);
  buf[icmp + 2] = c >> 8;
  buf[icmp + 3] = c & 0xff;
  return true;
}

interface Responder {
  requests: number;
  replies: number;
  others: number;
}

/** Answers echo requests read from the TUN, one batch per readable event. */
function respond(tun: TunDevice): Responder {
  const pool = tun.pool;
  const stats: Responder = { requests: 0, replies: 0, others: 0 };
  const inb = new PacketBatch(64);
  const out = new PacketBatch(64);
  tun.start(() => {
    tun.readBatch(inb);
    for (let i = 0; i < inb.count; i++) {
      if (toEchoReply(pool.slab, inb.offsets[i], inb.lengths[i])) out.push(inb.slots[i], inb.offsets[i], inb.lengths[i]);
      else {
        stats.others++;
        pool.release(inb.slots[i]);
      }
    }
    inb.clear();
    if (out.count === 0) return;
    stats.requests += out.count;
    stats.replies += tun.writeBatch(out);
    pool.releaseMany(out.slots, out.count);
    out.clear();
  });
  return stats;
}

/** Runs ping inside the namespace without blocking this event loop (it must answer). */
function ping(ns: Netns, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = ns.spawn('ping', args);
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** Opens a TUN here, moves it into a new namespace, configures it there by name. */
function tunInNamespace(t: TestContext, pool: BufferPool, mtu: number): { tun: TunDevice; ns: Netns; name: string } {
  const name = uniqueName('fyt');
  const tun = TunDevice.open(name, { pool, mtu });
  // Registered before the namespace: after-hooks run in order, so the fd is closed
  // (and polling stopped) before the namespace and the device in it go away.
  t.after(() => tun.close());
  const ns = netns(t, 'fyp');
  run('ip', ['link', 'set', name, 'netns', ns.name]);
  ns.run('ip', ['addr', 'add', '198.18.0.1/30', 'dev', name]);
  ns.run('ip', ['link', 'set', name, 'up']);
  ns.run('ip', ['route', 'add', '198.19.7.0/24', 'dev', name]);
  return { tun, ns, name };
}

test('a TUN moved to another namespace keeps working by fd: ping through it gets replies with 0% loss', async (t) => {
  if (!requireHost(t, ['ping'])) return;
  const pool = new BufferPool({ slotCount: 256 });
  const { tun, ns, name } = tunInNamespace(t, pool, 1420);
  assert.throws(() => getLinkMtu(name), { code: 'ENODEV' }, 'the device left this namespace');
  assert.deepEqual(tun.info(), { name, tap: false, vnetHdr: false, multiQueue: false });
  assert.equal(ns.run('cat', [`/sys/class/net/${name}/mtu`]).trim(), '1420');

  const stats = respond(tun);
  const r = await ping(ns, ['-c', '5', '-W', '2', '-i', '0.2', '198.19.7.9']);
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /5 packets transmitted, 5 received, 0% packet loss/);
  assert.equal(stats.requests, 5);
  assert.equal(stats.replies, 5);
  assert.equal(tun.writeErrors, 0);
  assert.equal(tun.writtenPackets, 5);
  assert.ok(tun.readPackets >= 5);
  assert.equal(tun.info().name, name, 'TUNGETIFF still names the device after the move');
  tun.close();
  pool.assertNoLeaks();
});

test('TUN packets larger than a slot are dropped and counted; packets that just fit go through', async (t) => {
  if (!requireHost(t, ['ping'])) return;
  // 1088-byte slots: 1000 bytes of data, so the largest packet accepted is 1000 bytes.
  const pool = new BufferPool({ slotCount: 64, slotSize: 1088, headroom: 64, tailroom: 24 });
  const { tun, ns, name } = tunInNamespace(t, pool, 1000);
  assert.equal(tun.maxPacket, 1000);
  // open() guards the MTU it is given; a later change in the namespace is caught per packet.
  ns.run('ip', ['link', 'set', name, 'mtu', '1400']);
  const stats = respond(tun);

  const big = await ping(ns, ['-c', '2', '-W', '1', '-i', '0.2', '-s', '1100', '198.19.7.9']);
  assert.notEqual(big.code, 0, big.output);
  assert.match(big.output, /2 packets transmitted, 0 received/);
  assert.equal(tun.truncated, 2, '1128-byte packets were dropped, not answered truncated');
  assert.equal(stats.requests, 0);

  // 972 bytes of ICMP data + 28 bytes of headers = exactly 1000 bytes.
  const exact = await ping(ns, ['-c', '2', '-W', '2', '-i', '0.2', '-s', '972', '198.19.7.9']);
  assert.equal(exact.code, 0, exact.output);
  assert.match(exact.output, /2 packets transmitted, 2 received, 0% packet loss/);
  assert.equal(tun.truncated, 2);
  assert.equal(stats.replies, 2);
  tun.close();
  pool.assertNoLeaks();
});

test('deleting the device (here: its namespace) reaches the onError handler of start()', async (t) => {
  if (!requireHost(t)) return;
  const pool = new BufferPool({ slotCount: 64 });
  const { tun, ns } = tunInNamespace(t, pool, 1420);
  const batch = new PacketBatch(8);
  // The device may still poll readable once before the error: its read then fails with
  // EBADFD, which a reader counts (the datapath does), so this one swallows it too.
  const drop = () => {
    try {
      tun.readBatch(batch);
    } catch (err) {
      if (!isSystemError(err) || err.code !== 'EBADFD') throw err;
    }
    pool.releaseMany(batch.slots, batch.count);
    batch.clear();
  };
  const failed = new Promise<SystemError>((resolve) => tun.start(drop, resolve));
  ns.destroy();
  let timer: NodeJS.Timeout | undefined;
  const err = await Promise.race([failed, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('no poll error')), 5000)))]);
  clearTimeout(timer);
  assert.ok(isSystemError(err));
  assert.equal(err.syscall, 'uv_poll');
  assert.ok(err.errno < 0);
  assert.throws(() => tun.readBatch(batch), { code: 'EBADFD', syscall: 'read' });
  tun.close();
  pool.assertNoLeaks();
});
