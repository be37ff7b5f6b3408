/**
 * The two I/O ports the datapath drives. native/ implements them for real devices
 * (src/io/tun.ts, src/io/udp.ts); test/fakes/ implements them in memory, so every
 * protocol module can be tested without root. Both move packets only as pool slots.
 *
 * Reading: a port keeps a small reserve of pool slots to read into; readBatch appends
 * up to (batch.capacity - batch.count) packets to the batch, hands their slots to the
 * caller (who must release each exactly once) and refills its reserve. When the pool
 * cannot refill the reserve the port reads fewer packets: that is backpressure, and
 * pool.exhausted counts it. Writing: writeBatch sends batch[0..count) and leaves the
 * slots with the caller, who releases them afterwards.
 */
import type { BufferPool } from '../buffer/pool.js';
import type { PacketBatch } from '../buffer/batch.js';
import type { DropCounters } from '../stats/drop-reasons.js';

interface Readiness {
  /**
   * Calls `onReadable` (no arguments) each time the port becomes readable, until
   * pause() or close(). The callback is created once by the caller, never per packet.
   */
  start(onReadable: () => void): void;
  /** Stops readiness callbacks (backpressure) until resume(). */
  pause(): void;
  resume(): void;
}

/** A TUN (layer 3: raw IP packets) or TAP (layer 2: Ethernet frames) device. */
export interface TunPort extends Readiness {
  readonly name: string;
  readonly pool: BufferPool;
  /** Reads available packets into the batch; returns how many were added (0 when none). */
  readBatch(batch: PacketBatch): number;
  /**
   * The interface MTU (followed at run time): the port reads packets of that size whole
   * from now on, into large pool slots when small ones cannot hold them. Optional: a port
   * without it reads into small slots.
   */
  fitReads?(mtu: number): void;
  /** Where the port counts the drops of its own (TUN offloads: tun_offload_bad_packet); the datapath gives its counters. */
  attachDrops?(drops: DropCounters): void;
  /**
   * Writes batch packets [0, count). Returns how many the kernel accepted; per packet
   * failures (a malformed packet the kernel rejects) are counted, not thrown.
   */
  writeBatch(batch: PacketBatch): number;
  /** Packets the kernel refused on write. */
  readonly writeErrors: number;
  /** Per packet of the last writeBatch, [0, count): 0 written, else -errno (when the port reports them). */
  readonly writeResults?: Int32Array;
  /** Read errors that were survived (counted, never thrown); a deleted device still throws. */
  readonly readErrors?: number;
  /** -errno of the last survived read error (0: none yet). */
  readonly lastReadError?: number;
  close(): void;
}

/**
 * A UDP socket; packet i's endpoint record is batch.endpoints[i * ENDPOINT_STRIDE]: the
 * peer (remote part) and the local address it arrived on (local part, src/io/endpoint.ts).
 * sendBatch sends from the local part when set, and clears it in the batch when the
 * kernel refuses that source (the datagram then leaves from the default source).
 */
export interface UdpPort extends Readiness {
  readonly pool: BufferPool;
  /** The bound local port (after binding port 0). */
  readonly localPort: number;
  /** Receives available datagrams into the batch, peer addresses included. */
  recvBatch(batch: PacketBatch): number;
  /**
   * The largest datagram the port must receive whole from now on (the interface MTU plus
   * the plane's overhead): into large pool slots when small ones cannot hold it. Optional,
   * as for TunPort.
   */
  fitReads?(largest: number): void;
  /** Sends datagrams [0, count) to their endpoints; returns how many were sent. */
  sendBatch(batch: PacketBatch): number;
  /** Datagrams the kernel refused (unreachable, no route, …); -EAGAIN entries are not refusals. */
  readonly sendErrors: number;
  /**
   * Per entry of the last sendBatch, [0, count): 0 when sent, else -errno. -EAGAIN (-11)
   * means the socket buffer was full: that entry was not sent and may be sent again once
   * whenWritable calls back. count - sendBatch()'s return entries are non-zero.
   */
  readonly sendResults: Int32Array;
  /**
   * Calls fn once, on a later event-loop turn, when the socket can take datagrams again
   * (after an -EAGAIN). A function already waiting is not added twice; never called after close().
   */
  whenWritable(fn: () => void): void;
  /** Forgets fn registered with whenWritable (e.g. its owner stops); true when it was waiting. */
  cancelWhenWritable?(fn: () => void): boolean;
  /** Datagrams reported -EAGAIN (not sent: the caller sends them again after whenWritable). */
  readonly sendBlocked?: number;
  /** Endpoint records whose local part (sticky source) sendBatch cleared because the kernel refused it. */
  readonly sourceResets?: number;
  /** Receive errors that were survived (ENOBUFS, ENOMEM, ICMP-reported errors…): counted, never thrown. */
  readonly recvErrors: number;
  /** -errno of the last survived receive error (0: none yet). */
  readonly lastRecvError: number;
  /** Sets SO_MARK (fwmark) on the socket, when the port supports it. */
  setMark?(mark: number): void;
  close(): void;
}
