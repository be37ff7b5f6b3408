/**
 * A UDP socket with batched I/O (recvmmsg/sendmmsg in native/) into and out of pool
 * slots. Peers are 24-byte endpoint records (endpoint.ts). An IPv6 socket is dual-stack
 * unless v6only: IPv4 peers then show up, and are addressed, as family-4 records.
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError, type SystemError } from '../errors.js';
import { loadNative, type NativeIo } from './native.js';
import { ReadGate } from './poll.js';
import type { UdpPort } from './ports.js';
import { DEFAULT_RESERVE, SlotReserve } from './reserve.js';

const MAX_BATCH = 4096;

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
}

export class UdpSocket implements UdpPort {
  readonly pool: BufferPool;
  readonly family: 4 | 6;
  readonly localPort: number;
  /** Datagrams received and handed on. */
  received = 0;
  /** Datagrams the kernel accepted. */
  sent = 0;
  sendErrors = 0;
  /** -errno of the last refused datagram (0: none yet). */
  lastSendError = 0;
  /** Per datagram of the last sendBatch: 0 sent, else -errno. Valid for [0, count). */
  readonly lastSendErrors = new Int32Array(MAX_BATCH);
  private fdValue: number;
  private readonly native: NativeIo;
  private readonly reserve: SlotReserve;
  private readonly gate: ReadGate;

  static open(options: UdpOpenOptions): UdpSocket {
    if (options === null || typeof options !== 'object' || options.pool === undefined) {
      throw new FerryError(ErrorCode.InvalidArgument, 'UdpSocket.open needs options.pool');
    }
    const { family } = options;
    if (family !== 4 && family !== 6) throw new FerryError(ErrorCode.InvalidArgument, `UDP family must be 4 or 6, got ${String(family)}`);
    const address = options.address ?? (family === 4 ? '0.0.0.0' : '::');
    const port = options.port ?? 0;
    const reserveSize = options.reserve ?? Math.min(DEFAULT_RESERVE, options.pool.slotCount);
    const native = loadNative();
    const fd = native.udpOpen(family, address, port, {
      rcvbuf: options.rcvbuf,
      sndbuf: options.sndbuf,
      mark: options.mark,
      reuseport: options.reuseport,
      v6only: options.v6only,
    });
    try {
      return new UdpSocket(native, fd, options.pool, family, native.udpLocalPort(fd), reserveSize);
    } catch (err) {
      native.closeFd(fd);
      throw err;
    }
  }

  private constructor(native: NativeIo, fd: number, pool: BufferPool, family: 4 | 6, localPort: number, reserveSize: number) {
    this.native = native;
    this.fdValue = fd;
    this.pool = pool;
    this.family = family;
    this.localPort = localPort;
    this.reserve = new SlotReserve(pool, reserveSize, true);
    this.gate = new ReadGate(fd, pool);
  }

  /** The socket fd (-1 once closed). */
  get fd(): number {
    return this.fdValue;
  }

  /** Datagrams dropped because they were larger than a slot's data capacity. */
  get truncated(): number {
    return this.reserve.truncated;
  }

  recvBatch(batch: PacketBatch): number {
    const fd = this.liveFd();
    const room = batch.capacity - batch.count;
    if (room <= 0) return 0;
    const reserve = this.reserve;
    const have = reserve.refill();
    if (have === 0) {
      this.gate.starve(reserve.size > 4 ? reserve.size >> 2 : 1);
      return 0;
    }
    const want = room < have ? room : have;
    const n = this.native.udpRecvBatch(fd, this.pool.slab, reserve.offsets, reserve.lengths, reserve.endpoints, this.pool.dataCapacity, want);
    if (n === 0) return 0;
    const added = reserve.handOver(batch, n);
    this.received += added;
    return added;
  }

  sendBatch(batch: PacketBatch): number {
    const fd = this.liveFd();
    const count = batch.count;
    if (count === 0) return 0;
    const errors = this.lastSendErrors;
    const ok = this.native.udpSendBatch(fd, this.pool.slab, batch.offsets, batch.lengths, batch.endpoints, count, errors);
    this.sent += ok;
    if (ok !== count) {
      this.sendErrors += count - ok;
      for (let i = count - 1; i >= 0; i--) {
        if (errors[i] !== 0) {
          this.lastSendError = errors[i];
          break;
        }
      }
    }
    return ok;
  }

  /** Changes SO_MARK (needs CAP_NET_ADMIN). */
  setMark(mark: number): void {
    this.native.udpSetMark(this.liveFd(), mark);
  }

  start(onReadable: () => void, onError?: (err: SystemError) => void): void {
    this.liveFd();
    this.gate.start(onReadable, onError);
  }

  pause(): void {
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
  }

  /** Stops polling, returns the reserve to the pool and closes the socket. Idempotent. */
  close(): void {
    if (this.fdValue < 0) return;
    this.gate.stop();
    this.reserve.releaseAll();
    const fd = this.fdValue;
    this.fdValue = -1;
    this.native.closeFd(fd);
  }

  private liveFd(): number {
    if (this.fdValue < 0) throw new FerryError(ErrorCode.InvalidArgument, 'UDP socket is closed');
    return this.fdValue;
  }
}
