/**
 * The datapath's layer-2 path, for an interface that is a TAP: frames carry no IP header
 * to route by, so every frame read from the TAP goes to the one L2 plane (an L2 VXLAN
 * VTEP), which forwards by MAC itself, and what that plane delivers goes back to the TAP
 * as it is. No route table, no translation stage. A plane that delivers IP packets
 * (WireGuard) has nothing to give a TAP: its deliveries are dropped, counted.
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError } from '../errors.js';
import { ETHERNET_HEADER_LENGTH } from '../packet/constants.js';
import { type DropCounters, DropReason } from '../stats/drop-reasons.js';
import type { Lane } from './lane.js';

/** What the datapath's device is: a TUN (IP packets, routed) or a TAP (Ethernet frames, to the L2 plane). */
export type DeviceKind = 'tun' | 'tap';

/** A frame may carry one VLAN tag beyond the Ethernet header (what a TAP's MTU leaves room for). */
const TAP_FRAME_OVERHEAD = ETHERNET_HEADER_LENGTH + 4;

export class L2Path {
  /** The lane of the L2 plane, or null while none is mounted (frames are then dropped). */
  private lane: Lane | null = null;

  constructor(
    private readonly pool: BufferPool,
    private readonly drops: DropCounters,
  ) {}

  get plane(): Lane['plane'] | null {
    return this.lane === null ? null : this.lane.plane;
  }

  /** Makes `lane` the one that gets every frame (null: none). Control path. */
  attach(lane: Lane | null): void {
    if (lane !== null && this.lane !== null && this.lane !== lane) {
      throw new FerryError(ErrorCode.InvalidArgument, `the TAP already carries plane ${this.lane.plane.name}; ${lane.plane.name} cannot take it too`);
    }
    this.lane = lane;
  }

  /** Forgets `lane` if it is the L2 one (its plane is being removed). */
  detach(lane: Lane): void {
    if (this.lane === lane) this.lane = null;
  }

  /** Hands every frame of a TAP batch to the L2 plane's lane; leaves the batch empty. */
  forward(batch: PacketBatch, mtu: number): void {
    const lane = this.lane;
    const n = batch.count;
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i];
      const len = batch.lengths[i];
      if (len < ETHERNET_HEADER_LENGTH) this.drop(slot, DropReason.Truncated);
      else if (len > mtu + TAP_FRAME_OVERHEAD) this.drop(slot, DropReason.TooBig);
      else if (lane === null) this.drop(slot, DropReason.NoRoute);
      else lane.route(slot, batch.offsets[i], len, null);
    }
    batch.count = 0;
  }

  /** True when a delivery from `lane` is a frame for the TAP; false when it must be dropped. */
  accepts(lane: Lane): boolean {
    return lane === this.lane;
  }

  private drop(slot: number, reason: number): void {
    this.pool.release(slot);
    this.drops.count(reason);
  }
}
