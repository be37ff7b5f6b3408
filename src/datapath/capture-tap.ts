/**
 * What the datapath and the planes hand to a running capture (src/capture): copies of
 * packets at four points. The datapath holds `capture: CaptureTap | null`; null (nobody
 * listening) costs each site one comparison and nothing else. A tap never keeps the
 * slab's bytes past the call and never blocks: it copies what its filters accept into a
 * bounded ring, or counts a loss.
 */

import type { PacketBatch } from '../buffer/batch.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';

/** The capture points; their numbers are the pcapng interface ids. */
export const CapturePoint = {
  /** What the host sent into the TUN and what ferry wrote back to it. */
  Tun: 0,
  /** Plaintext entering or leaving a plane (after decryption, decapsulation, translation). */
  Inner: 1,
  /** UDP datagrams on the wire (IP and UDP headers written for them). */
  Outer: 2,
  /** Every dropped packet that was at hand, with its reason. */
  Drop: 3,
} as const;

export const CAPTURE_POINT_NAMES = ['tun', 'inner', 'outer', 'drop'] as const;

/** Direction, as pcapng's epb_flags carry it: toward the host is inbound, toward the network outbound. */
export const CaptureDirection = {
  Unknown: 0,
  ToHost: 1,
  ToNetwork: 2,
} as const;

export interface CaptureTap {
  /** An IP packet at `tun` (plane null) or `inner` (the plane, and the peer or VTEP when known). */
  packet(point: number, direction: number, slab: Uint8Array, offset: number, length: number, plane: string | null, ref: unknown): void;
  /**
   * A UDP payload at `outer`: `endpoints[epOffset…]` is its endpoint record (remote, and
   * local when known), `localPort` the plane's bound port; ref is the peer or VTEP when known.
   */
  datagram(direction: number, slab: Uint8Array, offset: number, length: number, endpoints: Uint8Array, epOffset: number, localPort: number, plane: string, ref: unknown): void;
  /**
   * A dropped packet: an IP packet (endpoints null) or a UDP payload with its endpoint
   * record, as in datagram().
   */
  drop(reason: number, direction: number, slab: Uint8Array, offset: number, length: number, plane: string | null, ref: unknown, endpoints: Uint8Array | null, epOffset: number, localPort: number): void;
}

/** The `tun` point: every packet of a TUN batch (read from the host, or about to be written to it). */
export function tapTunBatch(cap: CaptureTap, slab: Uint8Array, batch: PacketBatch, direction: number): void {
  for (let i = 0; i < batch.count; i++) cap.packet(CapturePoint.Tun, direction, slab, batch.offsets[i], batch.lengths[i], null, null);
}

/** The `outer` point for a batch read from a plane's port. */
export function tapReceived(cap: CaptureTap, slab: Uint8Array, batch: PacketBatch, localPort: number, plane: string): void {
  for (let i = 0; i < batch.count; i++) cap.datagram(CaptureDirection.ToHost, slab, batch.offsets[i], batch.lengths[i], batch.endpoints, i * ENDPOINT_STRIDE, localPort, plane, null);
}
