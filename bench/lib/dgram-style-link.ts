/**
 * The datapath benchmark's anchor link (bench/datapath.ts): the same two in-memory ports
 * as mem-link.ts, but each datagram costs what node:dgram makes a JavaScript program pay,
 * as bench/io-dgram-forwarder.ts does over real sockets: the sender copies it into a new
 * Buffer (`Buffer.from(slab.subarray(…))`), the receiver gets that Buffer with an
 * `rinfo` object ({address, family, port, size}, as socket.on('message') delivers) and
 * copies it into a pool slot (`msg.copy`). Everything else (the two datapaths, WireGuard,
 * the TUN source and sink) is the same, so the difference in collections per packet is
 * what per-datagram objects cost, and shows the GC counter sees them.
 */
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { BufferPool } from '../../src/buffer/pool.js';
import { encodeEndpoint, type Endpoint, ENDPOINT_STRIDE } from '../../src/io/endpoint.js';
import type { UdpPort } from '../../src/io/ports.js';
import { DEFAULT_RESERVE, SlotReserve } from '../../src/io/reserve.js';

interface RemoteInfo {
  address: string;
  family: string;
  port: number;
  size: number;
}

interface Message {
  msg: Buffer;
  rinfo: RemoteInfo;
}

/** Messages waiting for one port. */
class Inbox {
  readonly messages: Message[] = [];
  head = 0;

  get count(): number {
    return this.messages.length - this.head;
  }

  shift(): Message {
    const m = this.messages[this.head++];
    if (this.head === this.messages.length) {
      this.messages.length = 0;
      this.head = 0;
    }
    return m;
  }
}

export class DgramStyleUdp implements UdpPort {
  readonly sendResults = new Int32Array(4096);
  readonly sendErrors = 0;
  readonly recvErrors = 0;
  readonly lastRecvError = 0;
  paused = false;
  writable: (() => void) | null = null;
  readonly inbox = new Inbox();
  peer: DgramStyleUdp | null = null;
  private onReadable: (() => void) | null = null;
  private readonly reserve: SlotReserve;
  /** The sender record a real socket would decode from rinfo (the bench's link has one peer). */
  private readonly remote = new Uint8Array(ENDPOINT_STRIDE);

  constructor(
    readonly pool: BufferPool,
    private readonly local: Endpoint,
    remote: Endpoint,
  ) {
    this.reserve = new SlotReserve(pool, Math.min(DEFAULT_RESERVE, pool.slotCount), true);
    encodeEndpoint(remote, this.remote);
  }

  /** Slots held in the receive reserve. */
  get reserved(): number {
    return this.reserve.count;
  }

  get localPort(): number {
    return this.local.port;
  }

  get pending(): number {
    return this.inbox.count;
  }

  fire(): void {
    if (this.onReadable !== null && !this.paused && this.inbox.count > 0) this.onReadable();
  }

  start(onReadable: () => void): void {
    this.onReadable = onReadable;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }

  whenWritable(fn: () => void): void {
    this.writable = fn;
  }

  recvBatch(batch: PacketBatch): number {
    const reserve = this.reserve;
    const room = batch.capacity - batch.count;
    const have = reserve.refill();
    let n = room < have ? room : have;
    if (n > this.inbox.count) n = this.inbox.count;
    if (n <= 0) return 0;
    for (let i = 0; i < n; i++) {
      const { msg, rinfo } = this.inbox.shift();
      msg.copy(this.pool.slab, reserve.offsets[i]);
      reserve.lengths[i] = rinfo.size;
      reserve.endpoints.set(this.remote, i * ENDPOINT_STRIDE);
    }
    return reserve.handOver(batch, n);
  }

  sendBatch(batch: PacketBatch): number {
    const peer = this.peer as DgramStyleUdp;
    const slab = this.pool.slab;
    for (let i = 0; i < batch.count; i++) {
      const off = batch.offsets[i];
      const msg = Buffer.from(slab.subarray(off, off + batch.lengths[i]));
      peer.inbox.messages.push({ msg, rinfo: { address: this.local.address, family: 'IPv4', port: this.local.port, size: msg.length } });
      this.sendResults[i] = 0;
    }
    return batch.count;
  }

  close(): void {
    this.onReadable = null;
    this.reserve.releaseAll();
  }
}

export function dgramStyleLink(poolA: BufferPool, a: Endpoint, poolB: BufferPool, b: Endpoint): { a: DgramStyleUdp; b: DgramStyleUdp } {
  const ua = new DgramStyleUdp(poolA, a, b);
  const ub = new DgramStyleUdp(poolB, b, a);
  ua.peer = ub;
  ub.peer = ua;
  return { a: ua, b: ub };
}
