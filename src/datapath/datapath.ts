/**
 * The datapath of one interface: the single owner of the TUN, one UDP port per plane that
 * has an underlay, their readiness, backpressure and the periodic tick. Planes are batch
 * transforms (plane.ts); the pipeline is straight and no plane touches a socket:
 *
 *   TUN batch ─► translate ─► route (LPM) ─┬─► plane.encapsulate ─► plane's out batch ─► its port
 *                                          ├─► back to the TUN (a translated packet with no route)
 *                                          └─► drop, with a reason
 *   port batch ─► plane.decapsulate ─► translate ─► TUN (or, when translated, route as above)
 *
 * When the device is a TAP (options.device), frames skip translation and routing: every
 * frame goes to the one L2 plane and what it delivers goes back to the TAP (l2-path.ts).
 *
 * Every out batch and the TUN batch are flushed once per wake; then the planes get their
 * deferred work (handshakes) within a budget. Time is injected; tick() drives every timer.
 */
import { PacketBatch, DEFAULT_BATCH_SIZE } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { TunPort } from '../io/ports.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import { CaptureDirection, type CaptureTap, tapReceived, tapTunBatch } from './capture-tap.js';
import { replyTooBig, TooBigReply } from './too-big.js';
import { L2Path } from './l2-path.js';
import type { Lane, LaneHost } from './lane.js';
import { PlaneMounts } from './plane-mounts.js';
import { Origin, type Plane, type TranslateStage, Verdict } from './plane.js';
import { RouteKind } from './route-table.js';
import { TunWriter } from './tun-writer.js';
import { checkMtu, DEFAULT_BATCHES_PER_WAKE, DEFAULT_POLL_BUDGET, DEFAULT_TICK_INTERVAL_MS, type DatapathOptions, type DatapathStats } from './datapath-options.js';

export class Datapath extends PlaneMounts implements LaneHost {
  readonly pool: BufferPool;
  readonly tun: TunPort;
  /** Drops decided by the datapath (no route, too big, malformed headers). */
  readonly drops = new DropCounters();
  readonly stats: DatapathStats = { tunRead: 0, tunWritten: 0, sendBlocks: 0, ioErrors: 0, tooBig: 0 };
  /** The translation stage before routing (the load balancer), or null. */
  translate: TranslateStage | null = null;
  /** The layer-2 path when the device is a TAP; null for a TUN. */
  readonly l2: L2Path | null;
  /** The running capture (src/capture sets it while a capture runs), or null: one comparison per site. */
  capture: CaptureTap | null = null;
  now = 0;
  private readonly clock: () => number;
  private readonly batchesPerWake: number;
  private readonly tickIntervalMs: number;
  private readonly pollBudget: number;
  private readonly onIoError: ((where: string, err: unknown) => void) | undefined;
  private readonly tunIn: PacketBatch;
  private readonly tunOut: TunWriter;
  private readonly tooBigReply = new TooBigReply();
  private blockedLanes = 0;
  private pollScheduled = false;
  private tickTimer: ReturnType<typeof setInterval> | undefined;
  private readonly onTunReadable: () => void;
  private readonly onPollTurn: () => void;
  private readonly onTickTimer: () => void;

  constructor(options: DatapathOptions) {
    super(checkMtu(options.mtu ?? 1420), options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.pool = options.pool;
    this.tun = options.tun;
    this.clock = options.now ?? (() => performance.now());
    this.batchesPerWake = options.batchesPerWake ?? DEFAULT_BATCHES_PER_WAKE;
    this.tickIntervalMs = options.tickIntervalMs ?? DEFAULT_TICK_INTERVAL_MS;
    this.pollBudget = options.pollBudget ?? DEFAULT_POLL_BUDGET;
    this.onIoError = options.onIoError;
    this.tunIn = new PacketBatch(this.batchSize);
    this.tunOut = new TunWriter(this, this.batchSize);
    this.l2 = options.device === 'tap' ? new L2Path(this.pool, this.drops) : null;
    this.now = this.clock();
    this.onTunReadable = () => this.readTun();
    this.onPollTurn = () => {
      this.pollScheduled = false;
      this.pollPlanes();
    };
    this.onTickTimer = () => this.tick();
    this.tun.fitReads?.(this.mtuValue);
    this.tun.attachDrops?.(this.drops);
  }

  get isUp(): boolean {
    return this.up;
  }

  /** Brings the interface up: ports deliver, planes' timers run. */
  start(): void {
    if (this.closed) throw new FerryError(ErrorCode.InvalidArgument, 'datapath is closed');
    if (this.up) return;
    this.up = true;
    this.now = this.clock();
    for (const lane of this.lanes) lane.plane.start(this.now);
    if (!this.portsStarted) {
      this.portsStarted = true;
      this.tun.start(this.onTunReadable);
      for (const lane of this.lanes) this.startPort(lane);
    } else {
      if (this.blockedLanes === 0) this.tun.resume();
      for (const lane of this.lanes) lane.port?.resume();
    }
    if (this.tickIntervalMs > 0) {
      this.tickTimer = setInterval(this.onTickTimer, this.tickIntervalMs);
      this.tickTimer.unref();
    }
    this.flushAll();
  }

  /** Brings it down: reading stops and the planes' timers with it. */
  stop(): void {
    if (!this.up) return;
    this.up = false;
    if (this.tickTimer !== undefined) clearInterval(this.tickTimer);
    this.tickTimer = undefined;
    this.tun.pause();
    for (const lane of this.lanes) {
      lane.port?.pause();
      lane.plane.stop();
    }
    this.flushAll();
  }

  /** Stops, closes every plane and port and the TUN; every pool slot comes back. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    for (const lane of this.lanes) {
      lane.plane.close();
      lane.releaseAll();
      lane.port?.close();
      lane.port = null;
    }
    for (let i = 0; i < this.tunIn.count; i++) this.pool.release(this.tunIn.slots[i]);
    this.tunIn.count = 0;
    this.tunOut.releaseAll();
    this.tun.close();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Runs every plane's timers and the translation stage's expiry; the interval calls it. */
  tick(now = this.clock()): void {
    if (!this.up) return;
    this.now = now;
    // Indexed: the tick runs too rarely to be optimised, and an iterator would be garbage each time.
    for (let i = 0; i < this.lanes.length; i++) this.lanes[i].plane.tick(now);
    this.translate?.tick(now);
    this.flushAll();
  }

  // ---------------------------------------------------------------- the pipeline

  private readTun(): void {
    const batch = this.tunIn;
    // Once per wake, not per batch: a clock that returns a fraction (performance.now) boxes a number per call.
    this.now = this.clock();
    for (let k = 0; k < this.batchesPerWake && this.up && this.blockedLanes === 0; k++) {
      let n = 0;
      try {
        n = this.tun.readBatch(batch);
      } catch (err) {
        this.ioError('TUN read', err);
        break;
      }
      if (n === 0) break;
      this.stats.tunRead += n;
      if (this.capture !== null && this.l2 === null) tapTunBatch(this.capture, this.pool.slab, batch, CaptureDirection.ToNetwork);
      if (this.l2 !== null) this.l2.forward(batch, this.mtuValue);
      else this.routeTunBatch(batch);
      this.encapsulateRouted();
      if (n < batch.capacity) break;
    }
    this.flushAll();
    this.pollPlanes();
  }

  protected readLane(lane: Lane): void {
    const port = lane.port;
    if (port === null) return;
    const batch = lane.input;
    this.now = this.clock();
    for (let k = 0; k < this.batchesPerWake && this.up; k++) {
      let n = 0;
      try {
        n = port.recvBatch(batch);
      } catch (err) {
        this.ioError(`${lane.plane.name} receive`, err);
        break;
      }
      if (n === 0) break;
      if (this.capture !== null) tapReceived(this.capture, this.pool.slab, batch, port.localPort, lane.plane.name);
      lane.plane.decapsulate(batch);
      batch.count = 0;
      this.encapsulateRouted();
      if (n < batch.capacity) break;
    }
    this.flushAll();
    this.pollPlanes();
  }

  /** Translate, route and hand each packet of a TUN batch to its plane (or the TUN, or a drop). */
  private routeTunBatch(batch: PacketBatch): void {
    const slab = this.pool.slab;
    const n = batch.count;
    const stage = this.translate;
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i];
      const off = batch.offsets[i];
      const len = batch.lengths[i];
      const version = len > 0 ? slab[off] >>> 4 : 0;
      if (version === 4 ? len < 20 : version === 6 ? len < 40 : true) {
        this.drop(slot, off, len, version === 4 || version === 6 || len === 0 ? DropReason.Truncated : DropReason.BadVersion);
        continue;
      }
      if (len > this.mtuValue) {
        this.tooBig(slot, off, len);
        continue;
      }
      let verdict: number = Verdict.Pass;
      if (stage !== null) {
        verdict = stage.translate(slab, off, len, Origin.Tun, this.now);
        if (verdict < 0) {
          this.drop(slot, off, len, -verdict);
          continue;
        }
      }
      this.forward(slot, off, len, verdict);
    }
    batch.count = 0;
  }

  /** Sends a packet where the route table says; `verdict` decides what a miss means. */
  private forward(slot: number, off: number, len: number, verdict: number): void {
    const slab = this.pool.slab;
    const route = slab[off] >>> 4 === 4 ? this.routes.lookupV4(slab, off + 16) : this.routes.lookupV6(slab, off + 24);
    if (route === undefined) {
      if (verdict === Verdict.Forward) this.toTun(slot, off, len);
      else this.drop(slot, off, len, DropReason.NoRoute);
      return;
    }
    if (route.kind === RouteKind.Plane) this.laneOf(route.plane as Plane).route(slot, off, len, route.ref);
    else if (route.kind === RouteKind.Tun) this.toTun(slot, off, len);
    else this.drop(slot, off, len, route.reason);
  }

  /** LaneHost: an inner packet (a frame, on a TAP) from a plane toward the host. */
  deliverFromPlane(slot: number, off: number, len: number, lane: Lane): void {
    const l2 = this.l2;
    if (l2 !== null) return l2.accepts(lane) ? this.toTun(slot, off, len) : this.drop(slot, off, len, DropReason.TapIpPacket);
    const stage = this.translate;
    if (stage !== null) {
      const verdict = stage.translate(this.pool.slab, off, len, Origin.Plane, this.now);
      if (verdict < 0) return this.drop(slot, off, len, -verdict);
      if (verdict === Verdict.Forward) return this.forward(slot, off, len, verdict);
    }
    this.toTun(slot, off, len);
  }

  private toTun(slot: number, off: number, len: number): void {
    this.tunOut.push(slot, off, len);
  }

  /** LaneHost: writes the TUN batch, counts refusals, releases its slots. */
  flushTun(): void {
    this.tunOut.flush();
  }

  /** LaneHost: a lane's socket is full (stop reading the TUN) or drained again. */
  laneBlocked(_lane: Lane, blocked: boolean): void {
    if (blocked) {
      this.stats.sendBlocks++;
      if (this.blockedLanes++ === 0) this.tun.pause();
      return;
    }
    if (--this.blockedLanes === 0 && this.up) this.tun.resume();
  }

  private encapsulateRouted(): void {
    for (let i = 0; i < this.lanes.length; i++) this.lanes[i].encapsulate();
  }

  private flushAll(): void {
    this.encapsulateRouted();
    for (let i = 0; i < this.lanes.length; i++) this.lanes[i].send();
    this.flushTun();
  }

  private pollPlanes(): void {
    if (!this.up) return;
    let more = false;
    for (let i = 0; i < this.lanes.length; i++) {
      if (this.lanes[i].plane.poll(this.now, this.pollBudget)) more = true;
    }
    this.flushAll();
    if (more) this.schedulePoll();
  }

  /** Comes back on the next loop turn for deferred work left over (a handshake flood); once per turn. */
  private schedulePoll(): void {
    if (this.pollScheduled) return;
    this.pollScheduled = true;
    setImmediate(this.onPollTurn);
  }

  private tooBig(slot: number, off: number, len: number): void {
    this.stats.tooBig++;
    const reply = this.tooBigReply;
    replyTooBig(this.pool, off, len, this.mtuValue, reply);
    if (reply.slot >= 0) this.toTun(reply.slot, reply.offset, reply.length);
    this.drop(slot, off, len, DropReason.TooBig);
  }

  private drop(slot: number, off: number, len: number, reason: number): void {
    if (this.capture !== null) this.capture.drop(reason, CaptureDirection.Unknown, this.pool.slab, off, len, null, null, null, 0, 0);
    this.pool.release(slot);
    this.drops.count(reason);
  }

  /** TunWriterHost: an I/O error survived. */
  ioError(where: string, err: unknown): void {
    this.stats.ioErrors++;
    this.onIoError?.(where, err);
  }
}
