/**
 * The planes a datapath hosts, each on a lane with its port: mounting and unmounting them,
 * giving a plane a new port, and the TAP's one L2 plane. The pipeline that moves packets
 * between them is datapath.ts, which extends this.
 */
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError } from '../errors.js';
import type { TunPort, UdpPort } from '../io/ports.js';
import { checkMtu } from './datapath-options.js';
import type { CaptureTap } from './capture-tap.js';
import type { L2Path } from './l2-path.js';
import { Lane, type LaneHost } from './lane.js';
import { DEFAULT_PLANE_OVERHEAD, type Plane } from './plane.js';
import { RouteTable } from './route-table.js';

export abstract class PlaneMounts implements LaneHost {
  readonly routes = new RouteTable();
  abstract readonly pool: BufferPool;
  abstract readonly tun: TunPort;
  abstract readonly l2: L2Path | null;
  abstract capture: CaptureTap | null;
  abstract now: number;
  protected readonly lanes: Lane[] = [];
  protected up = false;
  protected closed = false;
  protected portsStarted = false;
  /** Bound once: a lane's port is readable. */
  protected readonly onLaneReadable: (lane: Lane) => void;

  constructor(
    protected mtuValue: number,
    protected readonly batchSize: number,
  ) {
    this.onLaneReadable = (lane) => this.readLane(lane);
  }

  get mtu(): number {
    return this.mtuValue;
  }

  /** Follows the interface MTU (e.g. after `ip link set mtu`); the ports read into slots that hold it. */
  set mtu(mtu: number) {
    this.mtuValue = checkMtu(mtu);
    this.tun.fitReads?.(mtu);
    for (let i = 0; i < this.lanes.length; i++) this.fitLane(this.lanes[i]);
  }

  abstract deliverFromPlane(slot: number, offset: number, length: number, lane: Lane): void;
  abstract flushTun(): void;
  abstract laneBlocked(lane: Lane, blocked: boolean): void;
  protected abstract readLane(lane: Lane): void;

  get planes(): Plane[] {
    return this.lanes.map((l) => l.plane);
  }

  plane(name: string): Plane | undefined {
    return this.lanes.find((l) => l.plane.name === name)?.plane;
  }

  /** Mounts a plane with its port (null: a plane without an underlay). */
  addPlane(plane: Plane, port: UdpPort | null): void {
    if (this.closed) throw new FerryError(ErrorCode.InvalidArgument, 'datapath is closed');
    if (this.lanes.some((l) => l.plane.name === plane.name)) throw new FerryError(ErrorCode.InvalidArgument, `a plane named ${plane.name} is already mounted`);
    const lane = new Lane(plane, this, this.batchSize, this.onLaneReadable);
    this.lanes.push(lane);
    plane.attach(lane);
    if (port !== null) this.setPort(plane, port);
    if (this.up) plane.start(this.now);
  }

  /**
   * Unmounts a plane (its config section went away): its routes are released, what its
   * out batch holds is sent if the socket takes it, the rest released; its port is closed
   * (the datapath owns a mounted plane's port), then the plane itself.
   */
  removePlane(plane: Plane): void {
    const lane = this.laneOf(plane);
    lane.encapsulate();
    lane.send();
    if (lane.blocked) {
      lane.blocked = false;
      this.laneBlocked(lane, false);
    }
    this.routes.releaseOwner(plane.name);
    this.l2?.detach(lane);
    this.lanes.splice(this.lanes.indexOf(lane), 1);
    const port = lane.port;
    if (port !== null) {
      port.cancelWhenWritable?.(lane.onWritable);
      port.pause();
      port.close();
      lane.port = null;
    }
    if (this.up) plane.stop();
    plane.close();
    lane.releaseAll();
    this.flushTun();
  }

  /** On a TAP: makes a mounted plane the one every frame goes to (null: none). */
  setL2Plane(plane: Plane | null): void {
    if (this.l2 === null) throw new FerryError(ErrorCode.InvalidArgument, 'the device is a TUN: only a TAP has an L2 plane');
    this.l2.attach(plane === null ? null : this.laneOf(plane));
  }

  portOf(plane: Plane): UdpPort | null {
    return this.laneOf(plane).port;
  }

  /** Gives a plane a new port (a listen port or fwmark change); the old one is closed. */
  setPort(plane: Plane, port: UdpPort): void {
    const lane = this.laneOf(plane);
    const old = lane.port;
    if (old === port) return;
    if (old !== null) {
      old.cancelWhenWritable?.(lane.onWritable);
      old.pause();
      old.close();
    }
    if (lane.blocked) {
      lane.blocked = false;
      this.laneBlocked(lane, false);
    }
    lane.port = port;
    lane.portStarted = false;
    this.fitLane(lane);
    if (this.portsStarted) this.startPort(lane);
  }

  /**
   * A plane's port receives whole what a peer at our MTU sends: MTU plus the plane's
   * overhead. A peer whose MTU is larger sends datagrams that may not fit (counted as
   * truncated by the port; see docs/buffer-pool.md).
   */
  protected fitLane(lane: Lane): void {
    lane.port?.fitReads?.(this.mtuValue + (lane.plane.overhead ?? DEFAULT_PLANE_OVERHEAD));
  }

  protected startPort(lane: Lane): void {
    const port = lane.port;
    if (port === null || lane.portStarted) return;
    lane.portStarted = true;
    port.start(lane.onReadable);
    if (!this.up) port.pause();
  }

  protected laneOf(plane: Plane): Lane {
    for (let i = 0; i < this.lanes.length; i++) if (this.lanes[i].plane === plane) return this.lanes[i];
    throw new FerryError(ErrorCode.InvalidArgument, `plane ${plane.name} is not mounted on this datapath`);
  }
}
