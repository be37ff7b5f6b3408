/**
 * In-memory UDP: sockets attached to a FakeNetwork exchange datagrams by endpoint
 * record, so two ferry devices can talk without root. The network can drop, delay
 * or rewrite datagrams to test loss, roaming and replay.
 *
 * Like UdpSocket, a received record's local part is the address the datagram arrived on
 * (the socket's own, ifindex 0), and a datagram sent with a local part that is not the
 * socket's address has it cleared in the batch and leaves from the socket's address
 * (the kernel refusing a source that went away); `sourceResets` counts those.
 *
 * Faults, for tests of the datapath's error handling (each is one-shot unless said):
 *   failNextSends(from, errno, count?)  entries [from, from + count) of the next sendBatch
 *                                       fail with -errno (count default: to the end);
 *   blockWrites() / unblockWrites()     while blocked every entry is -EAGAIN (a full send
 *                                       buffer) and whenWritable waits for unblockWrites;
 *   injectRecvError(errno)              the next recvBatch counts a survived error
 *                                       (recvErrors, lastRecvError) and reads on, as the
 *                                       real socket does with an error queued on it.
 */
import type { BufferPool } from '../../src/buffer/pool.js';
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { UdpPort } from '../../src/io/ports.js';
import { constants as osConstants } from 'node:os';
import {
  ENDPOINT_STRIDE,
  clearEndpointLocal,
  decodeEndpoint,
  decodeEndpointLocal,
  encodeEndpoint,
  encodeEndpointLocal,
  formatEndpoint,
  type Endpoint,
} from '../../src/io/endpoint.js';
import { SlotReserve } from './reserve.js';
import { FakeReadiness } from './readiness.js';

const EAGAIN = osConstants.errno.EAGAIN;
const EINVAL = osConstants.errno.EINVAL;

export interface Datagram {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
  /** The outer IP TOS / traffic class: sent from endpoint byte 1, seen there by the receiver, as a recvTos port reports it. */
  tos?: number;
}

/** Decides the fate of a datagram: return false to drop it. May modify it. */
export type NetworkFilter = (d: Datagram) => boolean;

export class FakeNetwork {
  private readonly sockets = new Map<string, FakeUdp>();
  filter: NetworkFilter | undefined;
  /** Every datagram that crossed the network (after the filter), for assertions. */
  readonly log: Datagram[] = [];
  logEnabled = false;
  delivered = 0;
  dropped = 0;

  attach(sock: FakeUdp): void {
    const key = formatEndpoint(sock.local);
    if (this.sockets.has(key)) throw new Error(`fake network: ${key} already bound`);
    this.sockets.set(key, sock);
  }

  detach(sock: FakeUdp): void {
    this.sockets.delete(formatEndpoint(sock.local));
  }

  /** Moves a socket to a new local endpoint (roaming). */
  rebind(sock: FakeUdp, local: Endpoint): void {
    this.detach(sock);
    sock.local = local;
    this.attach(sock);
  }

  send(d: Datagram): boolean {
    if (this.filter && !this.filter(d)) {
      this.dropped++;
      return true;
    }
    if (this.logEnabled) this.log.push(d);
    const dst = this.sockets.get(formatEndpoint(d.to));
    if (!dst) {
      this.dropped++;
      return true;
    }
    this.delivered++;
    dst.enqueue(d);
    return true;
  }
}

export class FakeUdp implements UdpPort {
  /** Datagrams refused (not -EAGAIN ones). */
  sendErrors = 0;
  /** -errno of the last refused datagram. */
  lastSendError = 0;
  /** Datagrams reported -EAGAIN (not sent). */
  sendBlocked = 0;
  /** Records whose local part was cleared because it was not this socket's address. */
  sourceResets = 0;
  recvErrors = 0;
  lastRecvError = 0;
  /** Per entry of the last sendBatch: 0 sent, else -errno. */
  readonly sendResults = new Int32Array(4096);
  received = 0;
  sent = 0;
  private readonly inbox: Datagram[] = [];
  private readonly reserve: SlotReserve;
  private readonly readiness = new FakeReadiness(() => this.inbox.length > 0 || this.pendingRecvErrors.length > 0);
  /** Upper bound on queued datagrams, like a socket receive buffer; beyond it, drops. */
  rcvQueueLimit = 4096;
  rcvDrops = 0;
  private failFrom = -1;
  private failErrno = 0;
  private failCount = 0;
  private blocked = false;
  private readonly pendingRecvErrors: number[] = [];
  private writableWaiters: (() => void)[] = [];
  private writableScheduled = false;
  private closed = false;

  constructor(
    readonly network: FakeNetwork,
    public local: Endpoint,
    readonly pool: BufferPool,
    reserveSize = 64,
  ) {
    this.reserve = new SlotReserve(pool, reserveSize);
    network.attach(this);
  }

  get localPort(): number {
    return this.local.port;
  }

  get pending(): number {
    return this.inbox.length;
  }

  /** Functions waiting in whenWritable. */
  get writableWaiting(): number {
    return this.writableWaiters.length;
  }

  enqueue(d: Datagram): void {
    if (this.inbox.length >= this.rcvQueueLimit) {
      this.rcvDrops++;
      return;
    }
    this.inbox.push(d);
    this.readiness.kick();
  }

  /** The next sendBatch fails entries [fromIndex, fromIndex + count) with -errno (once). */
  failNextSends(fromIndex: number, errno: number, count = Infinity): void {
    if (!Number.isInteger(fromIndex) || fromIndex < 0 || !(errno > 0) || !(count > 0)) throw new RangeError('failNextSends(fromIndex >= 0, errno > 0, count > 0)');
    this.failFrom = fromIndex;
    this.failErrno = errno;
    this.failCount = count;
  }

  /** Every send is -EAGAIN until unblockWrites(); whenWritable waits for it. */
  blockWrites(): void {
    this.blocked = true;
  }

  unblockWrites(): void {
    this.blocked = false;
    this.scheduleWritable();
  }

  /** The next recvBatch counts a survived receive error (-errno) before reading on. */
  injectRecvError(errno: number): void {
    if (!(errno > 0)) throw new RangeError('injectRecvError(errno > 0)');
    this.pendingRecvErrors.push(errno);
    this.readiness.kick();
  }

  start(onReadable: () => void): void {
    this.readiness.start(onReadable);
  }

  pause(): void {
    this.readiness.pause();
  }

  resume(): void {
    this.readiness.resume();
  }

  recvBatch(batch: PacketBatch): number {
    const err = this.pendingRecvErrors.shift();
    if (err !== undefined) {
      this.recvErrors++;
      this.lastRecvError = -err;
    }
    let added = 0;
    this.reserve.fill();
    while (this.inbox.length > 0 && !batch.full) {
      const slot = this.reserve.take();
      if (slot < 0) break;
      const d = this.inbox.shift() as Datagram;
      const off = this.pool.dataOffset(slot);
      const len = Math.min(d.data.length, this.pool.dataCapacity);
      this.pool.slab.set(d.data.subarray(0, len), off);
      const i = batch.push(slot, off, len);
      encodeEndpoint(d.from, batch.endpoints, i * ENDPOINT_STRIDE);
      encodeEndpointLocal({ family: d.to.family, address: d.to.address, ifindex: 0 }, batch.endpoints, i * ENDPOINT_STRIDE);
      if (d.tos !== undefined) batch.endpoints[i * ENDPOINT_STRIDE + 1] = d.tos;
      added++;
      this.received++;
    }
    this.reserve.fill();
    return added;
  }

  sendBatch(batch: PacketBatch): number {
    let ok = 0;
    const failFrom = this.failFrom;
    const failEnd = failFrom + this.failCount;
    const failErrno = this.failErrno;
    this.failFrom = -1;
    for (let i = 0; i < batch.count; i++) {
      const off = i * ENDPOINT_STRIDE;
      const to = decodeEndpoint(batch.endpoints, off);
      let err = 0;
      if (this.blocked) err = EAGAIN;
      else if (failFrom >= 0 && i >= failFrom && i < failEnd) err = failErrno;
      else if (!to) err = EINVAL;
      if (err !== 0) {
        this.sendResults[i] = -err;
        if (err === EAGAIN) this.sendBlocked++;
        else {
          this.sendErrors++;
          this.lastSendError = -err;
        }
        continue;
      }
      const source = decodeEndpointLocal(batch.endpoints, off);
      if (source !== null && source.address !== this.local.address) {
        clearEndpointLocal(batch.endpoints, off);
        this.sourceResets++;
      }
      this.sendResults[i] = 0;
      const data = Uint8Array.from(this.pool.slab.subarray(batch.offsets[i], batch.offsets[i] + batch.lengths[i]));
      const tos = batch.endpoints[off + 1];
      this.network.send({ from: { ...this.local }, to: to!, data, ...(tos !== 0 ? { tos } : {}) });
      ok++;
      this.sent++;
    }
    return ok;
  }

  /** Calls fn once on a later turn, when writes are not blocked; a function already waiting is not added twice. */
  whenWritable(fn: () => void): void {
    if (this.closed || this.writableWaiters.includes(fn)) return;
    this.writableWaiters.push(fn);
    this.scheduleWritable();
  }

  cancelWhenWritable(fn: () => void): boolean {
    const before = this.writableWaiters.length;
    this.writableWaiters = this.writableWaiters.filter((f) => f !== fn);
    return this.writableWaiters.length !== before;
  }

  close(): void {
    this.closed = true;
    this.writableWaiters = [];
    this.readiness.closed = true;
    this.network.detach(this);
    this.reserve.releaseAll();
  }

  private scheduleWritable(): void {
    if (this.writableScheduled || this.blocked || this.writableWaiters.length === 0) return;
    this.writableScheduled = true;
    setImmediate(() => {
      this.writableScheduled = false;
      if (this.closed || this.blocked) return;
      const fns = this.writableWaiters;
      this.writableWaiters = [];
      for (const fn of fns) fn();
    });
  }
}
