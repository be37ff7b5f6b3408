/**
 * In-memory UDP: sockets attached to a FakeNetwork exchange datagrams by endpoint
 * record, so two ferry devices can talk without root. The network can drop, delay
 * or rewrite datagrams to test loss, roaming and replay.
 */
import type { BufferPool } from '../../src/buffer/pool.js';
import type { PacketBatch } from '../../src/buffer/batch.js';
import type { UdpPort } from '../../src/io/ports.js';
import { ENDPOINT_STRIDE, encodeEndpoint, decodeEndpoint, formatEndpoint, type Endpoint } from '../../src/io/endpoint.js';
import { SlotReserve } from './reserve.js';
import { FakeReadiness } from './readiness.js';

export interface Datagram {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
  /** The outer IP TOS / traffic class the receiver sees (endpoint byte 1), as a port reporting it would. */
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
  sendErrors = 0;
  recvErrors = 0;
  lastRecvError = 0;
  readonly sendResults = new Int32Array(4096);
  received = 0;
  sent = 0;
  private readonly inbox: Datagram[] = [];
  private readonly reserve: SlotReserve;
  private readonly readiness = new FakeReadiness(() => this.inbox.length > 0);
  /** Upper bound on queued datagrams, like a socket receive buffer; beyond it, drops. */
  rcvQueueLimit = 4096;
  rcvDrops = 0;

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

  enqueue(d: Datagram): void {
    if (this.inbox.length >= this.rcvQueueLimit) {
      this.rcvDrops++;
      return;
    }
    this.inbox.push(d);
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
      if (d.tos !== undefined) batch.endpoints[i * ENDPOINT_STRIDE + 1] = d.tos;
      added++;
      this.received++;
    }
    this.reserve.fill();
    return added;
  }

  sendBatch(batch: PacketBatch): number {
    let ok = 0;
    for (let i = 0; i < batch.count; i++) {
      const to = decodeEndpoint(batch.endpoints, i * ENDPOINT_STRIDE);
      if (!to) {
        this.sendErrors++;
        this.sendResults[i] = -22;
        continue;
      }
      this.sendResults[i] = 0;
      const data = Uint8Array.from(this.pool.slab.subarray(batch.offsets[i], batch.offsets[i] + batch.lengths[i]));
      const tos = batch.endpoints[i * ENDPOINT_STRIDE + 1];
      this.network.send({ from: { ...this.local }, to, data, ...(tos !== 0 ? { tos } : {}) });
      ok++;
      this.sent++;
    }
    return ok;
  }

  whenWritable(fn: () => void): void {
    setImmediate(fn);
  }

  close(): void {
    this.readiness.closed = true;
    this.network.detach(this);
    this.reserve.releaseAll();
  }
}
