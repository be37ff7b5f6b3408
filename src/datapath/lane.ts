/**
 * A plane mounted on the datapath: its port, the batch it receives into, the batch of
 * inner packets routed to it, and its out batch with the flush that sends it. The lane
 * is the PlaneIo the plane sees. A send that meets a full socket buffer (-EAGAIN) keeps
 * the unsent datagrams, marks the lane blocked and waits for writability; meanwhile the
 * datapath stops reading the TUN (backpressure) instead of losing the burst.
 */
import { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import type { UdpPort } from '../io/ports.js';
import { DropReason } from '../stats/drop-reasons.js';
import { CaptureDirection, CapturePoint, type CaptureTap } from './capture-tap.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';
import { OutBatch } from './out-batch.js';
import type { Plane, PlaneIo } from './plane.js';
import type { RouteTable } from './route-table.js';
import type { IpPrefix } from '../table/prefix-trie.js';

const EAGAIN = -11;

/** What a lane needs from its datapath. */
export interface LaneHost {
  readonly pool: BufferPool;
  readonly routes: RouteTable;
  readonly now: number;
  readonly mtu: number;
  /** The running capture, or null (nobody listening). */
  readonly capture: CaptureTap | null;
  /** An inner packet from a plane (this lane's) toward the host. */
  deliverFromPlane(slot: number, offset: number, length: number, lane: Lane): void;
  flushTun(): void;
  /** The lane's socket refused more (true) or drained (false). */
  laneBlocked(lane: Lane, blocked: boolean): void;
}

export class Lane implements PlaneIo {
  readonly out: OutBatch;
  /** Datagrams read from the port. */
  readonly input: PacketBatch;
  /** Inner packets routed to the plane, and their routes' references. */
  readonly routed: PacketBatch;
  readonly routedRefs: unknown[];
  port: UdpPort | null = null;
  portStarted = false;
  blocked = false;
  private sending = false;
  /** Sends that met a full socket buffer, and datagrams dropped because it stayed full. */
  sendBlocks = 0;
  /** Datagrams sent, and refused for good (counted as drops too). */
  sentDatagrams = 0;
  sendFailures = 0;
  /** Bound once: the port's readiness callback and the writability continuation. */
  readonly onReadable: () => void;
  readonly onWritable: () => void;

  constructor(
    readonly plane: Plane,
    private readonly host: LaneHost,
    batchSize: number,
    onReadable: (lane: Lane) => void,
  ) {
    this.out = new OutBatch(batchSize);
    this.input = new PacketBatch(batchSize);
    this.routed = new PacketBatch(batchSize);
    this.routedRefs = new Array<unknown>(batchSize).fill(null);
    this.onReadable = () => onReadable(this);
    this.onWritable = () => {
      if (!this.blocked) return;
      this.blocked = false;
      this.flush();
      if (!this.blocked) this.host.laneBlocked(this, false);
    };
  }

  get pool(): BufferPool {
    return this.host.pool;
  }

  get now(): number {
    return this.host.now;
  }

  get mtu(): number {
    return this.host.mtu;
  }

  get localPort(): number {
    return this.port === null ? 0 : this.port.localPort;
  }

  queue(slot: number, offset: number, length: number, endpoints: Uint8Array, epOffset: number, ref: unknown, tag: number): number {
    const out = this.out;
    if (out.count === out.capacity) this.send();
    const i = out.add(slot, offset, length, endpoints, epOffset, ref, tag);
    if (i < 0) {
      // Still full: every entry waits for the socket to drain, or a send is under way.
      const cap = this.host.capture;
      if (cap !== null) cap.drop(DropReason.UdpSendBlocked, CaptureDirection.ToNetwork, this.host.pool.slab, offset, length, this.plane.name, ref, endpoints, epOffset, this.localPort);
      this.host.pool.release(slot);
      this.plane.drops.count(DropReason.UdpSendBlocked);
    }
    return i;
  }

  deliver(slot: number, offset: number, length: number, ref: unknown = null): void {
    const cap = this.host.capture;
    if (cap !== null) cap.packet(CapturePoint.Inner, CaptureDirection.ToHost, this.host.pool.slab, offset, length, this.plane.name, ref);
    this.host.deliverFromPlane(slot, offset, length, this);
  }

  get capturing(): boolean {
    return this.host.capture !== null;
  }

  captureDrop(reason: number, offset: number, length: number, ref: unknown, endpoints: Uint8Array | null, epOffset: number): void {
    const cap = this.host.capture;
    if (cap === null) return;
    const direction = endpoints === null ? CaptureDirection.Unknown : CaptureDirection.ToHost;
    cap.drop(reason, direction, this.host.pool.slab, offset, length, this.plane.name, ref, endpoints, epOffset, this.localPort);
  }

  flush(): void {
    this.send();
    this.host.flushTun();
  }

  claimRoute(prefix: IpPrefix, ref: unknown): void {
    this.host.routes.claim(prefix, this.plane, ref);
  }

  releaseRoute(prefix: IpPrefix, ref: unknown): boolean {
    return this.host.routes.release(prefix, this.plane.name, ref);
  }

  releaseRoutes(ref: unknown): number {
    return this.host.routes.releaseRef(this.plane.name, ref);
  }

  routeConflict(prefix: IpPrefix): string | null {
    return this.host.routes.conflict(prefix, this.plane.name);
  }

  /** Hands a routed inner packet to the plane, encapsulating the batch when full. */
  route(slot: number, offset: number, length: number, ref: unknown): void {
    const cap = this.host.capture;
    if (cap !== null) cap.packet(CapturePoint.Inner, CaptureDirection.ToNetwork, this.host.pool.slab, offset, length, this.plane.name, ref);
    const r = this.routed;
    if (r.count === r.capacity) this.encapsulate();
    const i = r.push(slot, offset, length);
    this.routedRefs[i] = ref;
  }

  encapsulate(): void {
    if (this.routed.count === 0) return;
    this.plane.encapsulate(this.routed, this.routedRefs);
    this.routed.count = 0;
  }

  /**
   * Prepares and sends the out batch; keeps what met -EAGAIN. The plane's bookkeeping
   * after a send may queue more (a rekey's handshake initiation): those go out in the
   * same call, after the ones sent.
   */
  send(): void {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.out.count > 0 && !this.blocked && this.sendOnce());
    } finally {
      this.sending = false;
    }
  }

  /** One send of the whole out batch; true when entries were queued meanwhile. */
  private sendOnce(): boolean {
    const out = this.out;
    const n = out.count;
    if (out.prepared < n) {
      this.plane.prepare(out, out.prepared, n);
      out.prepared = n;
    }
    const pool = this.host.pool;
    const port = this.port;
    const cap = this.host.capture;
    if (port === null) {
      for (let i = 0; i < n; i++) {
        if (cap !== null) cap.drop(DropReason.UdpSendFailed, CaptureDirection.ToNetwork, pool.slab, out.offsets[i], out.lengths[i], this.plane.name, out.refs[i], out.endpoints, i * ENDPOINT_STRIDE, 0);
        pool.release(out.slots[i]);
      }
      this.plane.drops.count(DropReason.UdpSendFailed, n);
      this.compact(n, 0);
      return out.count > 0;
    }
    port.sendBatch(out);
    const results = port.sendResults;
    this.plane.sent(out, n, results);
    let kept = 0;
    for (let i = 0; i < n; i++) {
      const r = results[i];
      if (r === EAGAIN) {
        out.moveEntry(i, kept++);
        continue;
      }
      if (r === 0) {
        this.sentDatagrams++;
        if (cap !== null) cap.datagram(CaptureDirection.ToNetwork, pool.slab, out.offsets[i], out.lengths[i], out.endpoints, i * ENDPOINT_STRIDE, port.localPort, this.plane.name, out.refs[i]);
      } else {
        this.sendFailures++;
        if (cap !== null) cap.drop(DropReason.UdpSendFailed, CaptureDirection.ToNetwork, pool.slab, out.offsets[i], out.lengths[i], this.plane.name, out.refs[i], out.endpoints, i * ENDPOINT_STRIDE, port.localPort);
        this.plane.drops.count(DropReason.UdpSendFailed);
      }
      pool.release(out.slots[i]);
    }
    this.compact(n, kept);
    if (kept > 0) {
      this.sendBlocks++;
      this.blocked = true;
      this.host.laneBlocked(this, true);
      port.whenWritable(this.onWritable);
      return false;
    }
    return out.count > 0;
  }

  /**
   * After a send of entries [0, n): the first `kept` entries are the unsent ones, already
   * prepared; entries queued during the send (at n and beyond) move in behind them.
   */
  private compact(n: number, kept: number): void {
    const out = this.out;
    const total = out.count;
    let to = kept;
    for (let i = n; i < total; i++) out.moveEntry(i, to++);
    out.clearRefs(to, total);
    out.count = to;
    out.prepared = kept;
  }

  /** Gives back every slot the lane holds (close). */
  releaseAll(): void {
    const pool = this.host.pool;
    for (const b of [this.out, this.input, this.routed]) {
      for (let i = 0; i < b.count; i++) pool.release(b.slots[i]);
      b.count = 0;
    }
    this.out.clearRefs(0, this.out.capacity);
    this.out.prepared = 0;
    this.routedRefs.fill(null);
  }
}
