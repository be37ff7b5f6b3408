/**
 * The contract between the datapath and a plane (WireGuard, VXLAN, a test plane), in the
 * boringtun style: a plane is a set of batch transforms that never touch a socket. The
 * datapath reads the TUN and the plane's port, routes, and hands the plane whole batches;
 * the plane writes datagrams into an out batch the datapath owns (PlaneIo.queue) and
 * inner packets toward the host through PlaneIo.deliver; the datapath sends each out
 * batch once per wake and reports a result per entry.
 *
 * Ownership: every slot handed to a plane (encapsulate, decapsulate) becomes the plane's;
 * it must queue, deliver, keep (e.g. staged while a handshake runs) or drop each one, and
 * give back whatever it keeps in close().
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import type { DropCounters } from '../stats/drop-reasons.js';
import type { IpPrefix } from '../table/prefix-trie.js';
import type { OutBatch } from './out-batch.js';

/** Overhead assumed of a plane that does not state its own: more than WireGuard's or VXLAN's. */
export const DEFAULT_PLANE_OVERHEAD = 64;

/** What the datapath lends one plane. Bound to that plane's port and out batch. */
export interface PlaneIo {
  readonly pool: BufferPool;
  /** Monotonic ms of the wake or tick being processed. */
  readonly now: number;
  /** The interface's inner MTU, followed at run time. */
  readonly mtu: number;
  /** The plane's port's bound local port (0 while it has none). */
  readonly localPort: number;
  /** The out batch toward the plane's port. */
  readonly out: OutBatch;
  /**
   * Appends a datagram for the port (sending the batch first when it is full). The slot
   * belongs to the batch from now on. Returns the entry index, or -1 when the datagram
   * could not be queued (dropped and counted: no port, or the socket refuses to drain).
   */
  queue(slot: number, offset: number, length: number, endpoints: Uint8Array, epOffset: number, ref: unknown, tag: number): number;
  /**
   * An inner packet leaves the plane toward the host (decapsulated, decrypted): it passes
   * the translation stage, then goes to the TUN, or where the route table says when the
   * stage translated it. The slot's ownership passes. `ref` (the peer, the VTEP it came
   * from, when known) names it in a capture.
   */
  deliver(slot: number, offset: number, length: number, ref?: unknown): void;
  /** True while a capture runs: a plane's drop site then hands the packet to captureDrop first. */
  readonly capturing: boolean;
  /**
   * Shows a packet the plane is about to drop at the `drop` capture point (only while
   * capturing): an inner IP packet (endpoints null), or a datagram from the plane's port
   * with its endpoint record. Does not release or count: the plane still does.
   */
  captureDrop(reason: number, offset: number, length: number, ref: unknown, endpoints: Uint8Array | null, epOffset: number): void;
  /** Sends the out batch now and writes pending TUN packets (for work outside a wake). */
  flush(): void;
  /**
   * The route table, as this plane may change it: prefixes routed to the plane with a
   * reference (a peer, a VTEP). claimRoute throws RouteConflict when another plane holds
   * the prefix; routeConflict says so beforehand (validate a whole change, then apply).
   */
  claimRoute(prefix: IpPrefix, ref: unknown): void;
  releaseRoute(prefix: IpPrefix, ref: unknown): boolean;
  releaseRoutes(ref: unknown): number;
  routeConflict(prefix: IpPrefix): string | null;
}

export interface Plane {
  /** Unique within a datapath: "wireguard", "vxlan", … */
  readonly name: string;
  /** This plane's drops by reason (the datapath counts its own separately). */
  readonly drops: DropCounters;
  /**
   * Bytes the plane adds to an inner packet in its port's datagrams (WireGuard 32, VXLAN
   * 22), so that the port receives datagrams of MTU + overhead whole. Default
   * DEFAULT_PLANE_OVERHEAD.
   */
  readonly overhead?: number;
  /** Called once, when the plane is added to a datapath. */
  attach(io: PlaneIo): void;
  /** The interface comes up / goes down (timers run only while up). */
  start(now: number): void;
  stop(): void;
  /**
   * Inner packets the route table sent to this plane; refs[i] is the route's reference
   * (a peer, a VTEP). Takes every slot and leaves the batch empty.
   */
  encapsulate(batch: PacketBatch, refs: readonly unknown[]): void;
  /** Datagrams received on the plane's port. Takes every slot and leaves the batch empty. */
  decapsulate(batch: PacketBatch): void;
  /**
   * Entries [from, to) of the out batch are about to be sent: make each a whole datagram
   * (WireGuard seals here, once per batch). Entries before `from` are already prepared.
   */
  prepare(out: OutBatch, from: number, to: number): void;
  /**
   * The out batch's entries [0, count) were handed to the kernel; results[i] is 0 when
   * sent, else -errno. An entry with -EAGAIN was not sent: it stays queued and will be
   * reported again after a later send. Bookkeeping only (counters, timers); the datapath
   * releases the slots.
   */
  sent(out: OutBatch, count: number, results: Int32Array): void;
  /**
   * Deferred control work (handshakes) after the data of a wake, at most `budget` items.
   * Returns true while more is waiting, so the datapath comes back on the next turn.
   */
  poll(now: number, budget: number): boolean;
  /** Periodic timers; the datapath calls it once per tick. */
  tick(now: number): void;
  /** Releases every slot the plane still holds. */
  close(): void;
}

/**
 * What the translation stage (the load balancer) answers for a packet it saw and may
 * have rewritten in place. A negative value is a drop: -reason.
 */
export const Verdict = {
  /** Not the stage's business: the packet goes its usual way. */
  Pass: 0,
  /** Translated (or turned into an answer): route it by its new destination; the TUN when no route matches. */
  Forward: 1,
} as const;

/** Where a packet entered the datapath, for the translation stage. */
export const Origin = {
  Tun: 0,
  Plane: 1,
} as const;

/** The hook before routing (DNAT of new flows, reverse translation of replies). */
export interface TranslateStage {
  /** Rewrites slab[offset, offset + length) in place if it must; returns a Verdict or -reason. */
  translate(slab: Uint8Array, offset: number, length: number, origin: number, now: number): number;
  /** Periodic work (connection table expiry). */
  tick(now: number): void;
}
