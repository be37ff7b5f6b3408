/**
 * A UDP socket with batched I/O (recvmmsg/sendmmsg in native/) into and out of pool
 * slots. Peers are 48-byte endpoint records (endpoint.ts): the remote address, and the
 * local address a datagram arrived on, which a reply sent with the same record leaves
 * from (the sticky source). An IPv6 socket is dual-stack unless v6only: IPv4 peers then
 * show up, and are addressed, as family-4 records.
 *
 * Errors never throw from the hot path unless the socket itself is broken (a bad fd):
 * receive errors are counted (recvErrors), per-datagram send results are reported
 * (sendResults), and EAGAIN on send leaves the rest of the batch unsent for the caller
 * to send again once whenWritable calls back.
 *
 * Offloads (docs/offloads.md), on by default where the kernel has them: UDP GSO sends a
 * run of equal-size datagrams to one endpoint as one message, UDP GRO receives coalesced
 * messages and splits them. Neither changes what callers see: recvBatch yields one
 * datagram per entry, in its own slot, with its sender; sendBatch takes one per entry.
 */
import { constants as osConstants } from 'node:os';
import type { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError, type SystemError } from '../errors.js';
import { ENDPOINT_STRIDE } from './endpoint.js';
import { ReadGate } from './gate.js';
import { loadNative, type NativeIo } from './native.js';
import type { UdpPort } from './ports.js';
import { SlotReserve } from './reserve.js';
import { checkUdpOpenOptions, type UdpOpenOptions } from './udp-options.js';
import { GroRing } from './udp-gro-ring.js';

export type { UdpOpenOptions } from './udp-options.js';

const MAX_BATCH = 4096;

/** Entries of the GSO state array (native/src/udp_gso.c). */
const GSO_ON = 0;
const GSO_MESSAGES = 1;
const GSO_DATAGRAMS = 2;
const GSO_FALLBACKS = 3;
const GSO_SIZE_LIMIT = 4;
const GSO_OVERSIZE = 5;
const GSO_SOURCE_RESETS = 6;
/** Receive status (native): [0] errors survived in the call, [1] -errno of the last. */
const STATUS_ERRORS = 0;
const STATUS_LAST = 1;
const EAGAIN = osConstants.errno.EAGAIN;

export class UdpSocket implements UdpPort {
  readonly pool: BufferPool;
  readonly family: 4 | 6;
  readonly localPort: number;
  /** Datagrams received and handed on. */
  received = 0;
  /** Datagrams the kernel accepted. */
  sent = 0;
  /** Datagrams the kernel refused (unreachable, no route, too big…); -EAGAIN entries are not counted here. */
  sendErrors = 0;
  /** -errno of the last refused datagram (0: none yet; never -EAGAIN). */
  lastSendError = 0;
  /** Datagrams reported -EAGAIN (send buffer full: not sent, the caller may send them again). */
  sendBlocked = 0;
  /**
   * Per datagram of the last sendBatch, [0, count): 0 sent, else -errno; -EAGAIN from the
   * first datagram the full send buffer refused to the end of the batch.
   */
  readonly sendResults = new Int32Array(MAX_BATCH);
  /** Receive errors survived (never thrown): ENOBUFS, ENOMEM, errors queued by ICMP… */
  recvErrors = 0;
  /** -errno of the last survived receive error (0: none yet). */
  lastRecvError = 0;
  /** GSO messages sent (two or more datagrams each) and the datagrams they carried. */
  gsoMessages = 0;
  gsoDatagrams = 0;
  /** GSO messages the kernel refused and that went out one datagram at a time. */
  gsoFallbacks = 0;
  /** Datagrams sent alone, not grouped, because they are larger than gsoSizeLimit. */
  gsoOversize = 0;
  /** Endpoint records whose local part (sticky source) was cleared because the kernel refused it. */
  sourceResets = 0;
  /** Coalesced messages received (two or more datagrams each) and the datagrams in them. */
  groMessages = 0;
  groDatagrams = 0;
  /** Readable callbacks re-run for datagrams left in the GRO ring (one setImmediate each). */
  ringKicks = 0;
  /** True when receiving with UDP GRO. */
  readonly gro: boolean;
  private fdValue: number;
  private readonly native: NativeIo;
  private readonly reserve: SlotReserve;
  private readonly gate: ReadGate;
  /** [GSO_ON, last call's messages, datagrams, fallbacks, size limit, oversize, source resets, -]. */
  private readonly gsoState: Int32Array;
  private readonly recvStatus: Int32Array;
  /** Where coalesced messages wait until every datagram in them has been handed out. */
  private readonly groRing: GroRing | null;
  private onReadable: (() => void) | null = null;
  private paused = false;
  private kickScheduled = false;
  private kickOnPool = false;

  static open(options: UdpOpenOptions): UdpSocket {
    const { family, address, port, reserveSize, nativeOptions } = checkUdpOpenOptions(options);
    const native = loadNative();
    if (native.UDP_ENDPOINT_STRIDE !== ENDPOINT_STRIDE) {
      throw new FerryError(ErrorCode.NativeMissing, `native addon uses ${native.UDP_ENDPOINT_STRIDE}-byte endpoint records, ferry ${ENDPOINT_STRIDE} (stale build? run npm run build)`);
    }
    const fd = native.udpOpen(family, address, port, nativeOptions);
    try {
      const gso = options.gso !== false && native.udpGsoSupported(fd);
      const gro = options.gro !== false && native.udpSetGro(fd, true);
      return new UdpSocket(native, fd, options.pool, family, native.udpLocalPort(fd), reserveSize, gso, gro);
    } catch (err) {
      native.closeFd(fd);
      throw err;
    }
  }

  private constructor(
    native: NativeIo,
    fd: number,
    pool: BufferPool,
    family: 4 | 6,
    localPort: number,
    reserveSize: number,
    gso: boolean,
    gro: boolean,
  ) {
    this.native = native;
    this.fdValue = fd;
    this.pool = pool;
    this.family = family;
    this.localPort = localPort;
    this.reserve = new SlotReserve(pool, reserveSize, true);
    this.gate = new ReadGate(fd, pool, { rearmOnError: true });
    this.gsoState = new Int32Array(native.UDP_GSO_STATE_LENGTH);
    this.gsoState[GSO_ON] = gso ? 1 : 0;
    this.recvStatus = new Int32Array(native.IO_STATUS_LENGTH);
    this.gro = gro;
    this.groRing = gro ? new GroRing(native.UDP_GRO_RING_BYTES) : null;
  }

  /** The socket fd (-1 once closed). */
  get fd(): number {
    return this.fdValue;
  }

  /** Datagrams dropped because they were larger than a slot's data capacity. */
  get truncated(): number {
    return this.reserve.truncated;
  }

  /** Receives datagrams of `largest` bytes whole from now on: into large pool slots when small ones cannot hold them. */
  fitReads(largest: number): void {
    if (!this.reserve.fit(largest)) return;
    this.gate.forgetStarve();
    if (this.kickOnPool && this.pool.cancelWhenAvailable(this.onPoolForRing)) this.onPoolForRing();
  }

  /** True while sending with UDP GSO (false when off, unsupported, or refused by the kernel). */
  get gso(): boolean {
    return this.gsoState[GSO_ON] === 1;
  }

  /**
   * Largest datagram GSO still groups, learned from the kernel refusing larger segments
   * for the path MTU (EMSGSIZE; EINVAL before Linux 6.14); 0 while none was refused.
   */
  get gsoSizeLimit(): number {
    return this.gsoState[GSO_SIZE_LIMIT];
  }

  /** Poll errors libuv reported (each one an error queued on the socket, then read and counted). */
  get pollErrors(): number {
    return this.gate.pollErrors;
  }

  /** Same array as sendResults (its former name). */
  get lastSendErrors(): Int32Array {
    return this.sendResults;
  }

  /** True while received datagrams wait in the GRO ring for the next recvBatch. */
  get pending(): boolean {
    return this.groRing !== null && this.groRing.pending;
  }

  recvBatch(batch: PacketBatch): number {
    const fd = this.liveFd();
    const room = batch.capacity - batch.count;
    if (room <= 0) return 0;
    const reserve = this.reserve;
    const have = reserve.refill();
    if (have === 0) {
      const threshold = reserve.target > 4 ? reserve.target >> 2 : 1;
      this.gate.starve(threshold, reserve.slotClass);
      // Readiness comes back with the pool, but datagrams in the ring make no fd readable.
      if (this.pending && !this.kickOnPool) {
        this.kickOnPool = true;
        this.pool.whenAvailable(threshold, this.onPoolForRing, reserve.slotClass);
      }
      return 0;
    }
    const want = room < have ? room : have;
    const ring = this.groRing;
    const pool = this.pool;
    const status = this.recvStatus;
    let n: number;
    if (ring === null) {
      n = this.native.udpRecvBatch(fd, pool.slab, reserve.offsets, reserve.lengths, reserve.endpoints, reserve.capacity, want, status);
    } else {
      // The GRO ring's datagrams are copied into this batch's slots: longer ones count as truncated.
      n = this.native.udpRecvBatchGro(fd, pool.slab, reserve.offsets, reserve.lengths, reserve.endpoints, reserve.capacity, want, ring.bytes, status);
      this.groMessages += ring.lastCoalesced;
      this.groDatagrams += ring.lastDatagrams;
    }
    if (status[STATUS_ERRORS] !== 0) {
      this.recvErrors += status[STATUS_ERRORS];
      this.lastRecvError = status[STATUS_LAST];
    }
    if (n === 0) return 0;
    const added = reserve.handOver(batch, n);
    this.received += added;
    return added;
  }

  /**
   * Sends datagrams [0, count); returns how many the kernel accepted. sendResults holds
   * each one's result. A record whose local part the kernel refused comes back with that
   * part cleared in batch.endpoints (the datagram went out without it).
   */
  sendBatch(batch: PacketBatch): number {
    const fd = this.liveFd();
    const count = batch.count;
    if (count === 0) return 0;
    const results = this.sendResults;
    const state = this.gsoState;
    const ok = this.native.udpSendBatchGso(fd, this.pool.slab, batch.offsets, batch.lengths, batch.endpoints, count, results, state);
    this.gsoMessages += state[GSO_MESSAGES];
    this.gsoDatagrams += state[GSO_DATAGRAMS];
    this.gsoFallbacks += state[GSO_FALLBACKS];
    this.gsoOversize += state[GSO_OVERSIZE];
    this.sourceResets += state[GSO_SOURCE_RESETS];
    this.sent += ok;
    if (ok !== count) {
      for (let i = 0; i < count; i++) {
        const r = results[i];
        if (r === 0) continue;
        if (r === -EAGAIN) {
          this.sendBlocked++;
        } else {
          this.sendErrors++;
          this.lastSendError = r;
        }
      }
    }
    return ok;
  }

  /**
   * Calls fn once, on a later event-loop turn, when the socket can take datagrams again
   * (after -EAGAIN in sendResults). Uses the socket's one poller (writable interest is
   * added, then dropped once fn ran). Never called after close().
   */
  whenWritable(fn: () => void): void {
    if (this.fdValue < 0) return;
    this.gate.whenWritable(fn);
  }

  /** Forgets fn registered with whenWritable; true when it was waiting. */
  cancelWhenWritable(fn: () => void): boolean {
    return this.gate.cancelWhenWritable(fn);
  }

  /** Changes SO_MARK (needs CAP_NET_ADMIN). */
  setMark(mark: number): void {
    this.native.udpSetMark(this.liveFd(), mark);
  }

  /**
   * onReadable runs on each readable event. onError (optional) hears of a poll error that
   * reading does not clear (gate.ts); an error queued on the socket is read and counted.
   */
  start(onReadable: () => void, onError?: (err: SystemError) => void): void {
    this.liveFd();
    if (typeof onReadable !== 'function') throw new FerryError(ErrorCode.InvalidArgument, 'onReadable must be a function');
    this.onReadable = onReadable;
    this.gate.start(this.groRing === null ? onReadable : this.readable, onError);
  }

  pause(): void {
    this.paused = true;
    this.gate.pause();
  }

  resume(): void {
    this.paused = false;
    this.gate.resume();
    if (this.pending) this.scheduleKick();
  }

  /**
   * Stops polling, returns the reserve to the pool, forgets every pool and writable
   * waiter and closes the socket. Idempotent.
   */
  close(): void {
    if (this.fdValue < 0) return;
    this.onReadable = null;
    this.gate.stop();
    if (this.kickOnPool) {
      this.pool.cancelWhenAvailable(this.onPoolForRing);
      this.kickOnPool = false;
    }
    this.reserve.releaseAll();
    const fd = this.fdValue;
    this.fdValue = -1;
    this.native.closeFd(fd);
  }

  /*
   * Readiness is level-triggered on the fd, but datagrams already read into the GRO ring
   * make no fd readable: when a readable callback returns with the ring still holding
   * some, the callback runs again on the next loop turn (one setImmediate per such
   * callback, not per packet), as it would for data left in the socket.
   */
  private readonly readable = (): void => {
    this.onReadable?.();
    if (this.pending) this.scheduleKick();
  };

  private readonly kick = (): void => {
    this.kickScheduled = false;
    if (this.fdValue < 0 || this.paused || this.onReadable === null || this.gate.isStarved || !this.pending) return;
    this.readable();
  };

  private readonly onPoolForRing = (): void => {
    this.kickOnPool = false;
    this.scheduleKick();
  };

  private scheduleKick(): void {
    if (this.kickScheduled || this.onReadable === null) return;
    this.kickScheduled = true;
    this.ringKicks++;
    setImmediate(this.kick);
  }

  private liveFd(): number {
    if (this.fdValue < 0) throw new FerryError(ErrorCode.InvalidArgument, 'UDP socket is closed');
    return this.fdValue;
  }
}
