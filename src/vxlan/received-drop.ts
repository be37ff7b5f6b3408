/**
 * A datagram from the VXLAN port dropped by either VTEP: shown at the `drop` capture point
 * (outer headers and all) while a capture runs, counted for the plane and, when its outer
 * source is a VTEP the plane knows, for that VTEP; its slot goes back to the pool.
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { PlaneIo } from '../datapath/plane.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';
import type { DropCounters } from '../stats/drop-reasons.js';
import type { VtepAddresses } from './vtep-addresses.js';

export function dropReceived(io: PlaneIo, drops: DropCounters, vteps: VtepAddresses, batch: PacketBatch, i: number, reason: number): void {
  const ep = i * ENDPOINT_STRIDE;
  if (io.capturing) io.captureDrop(reason, batch.offsets[i], batch.lengths[i], null, batch.endpoints, ep);
  vteps.countDrop(vteps.find(batch.endpoints, ep), reason);
  drops.count(reason);
  io.pool.release(batch.slots[i]);
}
