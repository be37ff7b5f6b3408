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
import { loadNative, type NativeIo, type UdpOpenNativeOptions } from './native.js';
import type { UdpPort } from './ports.js';
import { DEFAULT_RESERVE, SlotReserve } from './reserve.js';

const MAX_BATCH = 4096;

/** Int32 fields of the GRO ring header (native/src/udp_recv.c gro_header). */
const RING_COUNT = 0;
const RING_COALESCED = 3;
const RING_DATAGRAMS = 4;
/** Entries of the GSO state array (native/src/udp_send.c). */
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

export interface UdpOpenOptions {
  pool: BufferPool;
  family: 4 | 6;
  /** Local address to bind; default the wildcard ("0.0.0.0" or "::"). "fe80::1%eth0" names a scope. */
  address?: string;
  /** Local port; default 0 (the kernel picks, see localPort). */
  port?: number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (forced past the sysctl limit when privileged). */
  rcvbuf?: number;
  sndbuf?: number;
  /** SO_MARK (needs CAP_NET_ADMIN): keeps tunnel traffic out of the tunnel's own routes. */
  mark?: number;
  reuseport?: boolean;
  /** IPv6 only (family 6): refuse IPv4 peers. Default false (dual-stack). */
  v6only?: boolean;
  /** Slots kept for receiving (default 128, at most the pool's slot count). */
  reserve?: number;
  /**
   * UDP GSO (UDP_SEGMENT) on send. Default true; stays off where the kernel lacks it.
   * A run refused for its size teaches a size limit above which datagrams go out alone
   * (`gsoSizeLimit`); a refusal of GSO itself turns it off for good (see `gso`).
   */
  gso?: boolean;
  /**
   * UDP GRO (UDP_GRO) on receive. Default true; off where the kernel lacks it. Costs a
   * 4 MiB ring per socket (virtual: pages are touched only as coalesced data arrives).
   */
  gro?: boolean;
  /**
   * Send IPv4 datagrams with a zero UDP checksum (SO_NO_CHECK), as VXLAN commonly does
   * (RFC 7348 §5). The kernel refuses GSO on such a socket, so GSO falls back on first use.
   */
  noChecksum?: boolean;
  /**
   * Report each received datagram's outer TOS (IPv4) or traffic class (IPv6) in byte 1
   * of its endpoint record (IP_RECVTOS, IPV6_RECVTCLASS): VXLAN decapsulates ECN from it
   * (RFC 6040). Default false (byte 1 is then 0). Whatever the option, a send whose
   * record has a non-zero byte 1 goes out with that TOS.
   */
  recvTos?: boolean;
  /**
   * IPv6 only: accept datagrams whose UDP checksum is zero (UDP_NO_CHECK6_RX), which RFC
   * 6935/6936 allow for tunnels (Linux's vxlan udp6zerocsumtx). Default false: the kernel
   * drops them, as RFC 8200 says for UDP in general.
   */
  zeroChecksum6?: boolean;
  /**
   * Never fragment (IP_PMTUDISC_DO / IPV6_PMTUDISC_DO): DF on every IPv4 datagram, and a
   * datagram over the path MTU is refused with EMSGSIZE instead of fragmented locally.
   * Default false: the kernel's default (DF while the datagram fits the path MTU).
   */
  dontFragment?: boolean;
  /**
   * Bind even when the host does not have the address yet (IP_FREEBIND): an underlay
   * address that comes up after the daemon, such as the interface's own. Default false.
   */
  freebind?: boolean;
}

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
  private readonly groRing: Uint8Array | null;
  private readonly groHeader: Int32Array | null;
  private onReadable: (() => void) | null = null;
  private paused = false;
  private kickScheduled = false;
  private kickOnPool = false;

  static open(options: UdpOpenOptions): UdpSocket {
    if (options === null || typeof options !== 'object' || options.pool === undefined) {
      throw new FerryError(ErrorCode.InvalidArgument, 'UdpSocket.open needs options.pool');
    }
    const { family } = options;
    if (family !== 4 && family !== 6) throw new FerryError(ErrorCode.InvalidArgument, `UDP family must be 4 or 6, got ${String(family)}`);
    const address = options.address ?? (family === 4 ? '0.0.0.0' : '::');
    const port = options.port ?? 0;
    const reserveSize = options.reserve ?? Math.min(DEFAULT_RESERVE, options.pool.slotCount);
    for (const k of ['gso', 'gro', 'noChecksum', 'recvTos', 'zeroChecksum6', 'dontFragment', 'freebind'] as const) {
      const v = options[k];
      if (v !== undefined && typeof v !== 'boolean') throw new FerryError(ErrorCode.InvalidArgument, `UDP option ${k} must be a boolean`);
    }
    const native = loadNative();
    if (native.UDP_ENDPOINT_STRIDE !== ENDPOINT_STRIDE) {
      throw new FerryError(ErrorCode.NativeMissing, `native addon uses ${native.UDP_ENDPOINT_STRIDE}-byte endpoint records, ferry ${ENDPOINT_STRIDE} (stale build? run npm run build)`);
    }
    const nativeOptions: UdpOpenNativeOptions = {
      rcvbuf: options.rcvbuf,
      sndbuf: options.sndbuf,
      mark: options.mark,
      reuseport: options.reuseport,
      v6only: options.v6only,
      noChecksum: options.noChecksum,
      recvTos: options.recvTos,
      zeroChecksum6: options.zeroChecksum6,
      dontFragment: options.dontFragment,
      freebind: options.freebind,
    };
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
    this.groRing = gro ? new Uint8Array(native.UDP_GRO_RING_BYTES) : null;
    this.groHeader = this.groRing === null ? null : new Int32Array(this.groRing.buffer, 0, 8);
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
    return this.groHeader !== null && this.groHeader[RING_COUNT] > 0;
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
      n = this.native.udpRecvBatchGro(fd, pool.slab, reserve.offsets, reserve.lengths, reserve.endpoints, reserve.capacity, want, ring, status);
      const h = this.groHeader!;
      this.groMessages += h[RING_COALESCED];
      this.groDatagrams += h[RING_DATAGRAMS];
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
