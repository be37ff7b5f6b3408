/**
 * A TUN (IP packets) or TAP (Ethernet frames) device driven in batches through native/.
 * Everything after open() goes through the fd, never the name, so the device keeps
 * working after `ip link set NAME netns OTHER` (the wireguard.com/netns pattern).
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { BufferPool } from '../buffer/pool.js';
import { ErrorCode, FerryError, type SystemError } from '../errors.js';
import type { DropCounters } from '../stats/drop-reasons.js';
import { loadNative, type NativeIo } from './native.js';
import { ReadGate } from './gate.js';
import type { TunPort } from './ports.js';
import { DEFAULT_RESERVE, SlotReserve } from './reserve.js';
import { openOffloads, TunOffloads } from './tun-offload.js';

/** Largest batch writeBatch accepts (PacketBatch's own limit). */
const MAX_BATCH = 4096;
/** Bytes a TAP frame carries beyond the MTU: Ethernet header and one VLAN tag. */
const TAP_OVERHEAD = 14 + 4;
/** struct virtio_net_hdr in front of every packet with IFF_VNET_HDR (kernel default size). */
const VNET_HDR_LEN = 10;
const IFNAMSIZ = 16;

interface TunOpenOptions {
  pool: BufferPool;
  /** Layer 2 (IFF_TAP) instead of layer 3 (IFF_TUN). */
  tap?: boolean;
  /** IFF_VNET_HDR: a virtio_net_hdr precedes each packet (offloads). */
  vnetHdr?: boolean;
  /** IFF_MULTI_QUEUE: several fds may attach to one device. */
  multiQueue?: boolean;
  /** Sets the device MTU; refused when packets of that size would not fit in a slot. */
  mtu?: number;
  /** Brings the link up (in the current namespace). */
  up?: boolean;
  /** Slots kept for reading (default 128, at most the pool's slot count). */
  reserve?: number;
  /**
   * TUN offloads (docs/offloads.md#tun-offloads): IFF_VNET_HDR, TUNSETOFFLOAD, super-packets
   * split on read and TCP coalesced on write. Used when the kernel and the pool allow it
   * (see offloadRefused); never on a TAP. Default false.
   */
  offload?: boolean;
}

interface TunDeviceInfo {
  /** The kernel's current name for the device, wherever it lives now. */
  name: string;
  tap: boolean;
  vnetHdr: boolean;
  multiQueue: boolean;
}

export class TunDevice implements TunPort {
  readonly name: string;
  readonly pool: BufferPool;
  readonly tap: boolean;
  readonly vnetHdr: boolean;
  /** Largest packet (virtio header and link header included) read whole; follows fitReads(). */
  maxPacket: number;
  /** Packets read and handed on. */
  readPackets = 0;
  /** Packets the kernel accepted. */
  writtenPackets = 0;
  writeErrors = 0;
  /** -errno of the last refused write (0: none yet). */
  lastWriteError = 0;
  /** Per packet of the last writeBatch, [0, count): 0 written, else -errno. */
  readonly writeResults = new Int32Array(MAX_BATCH);
  /** Read errors survived (never thrown; a deleted device still throws EBADFD). */
  readErrors = 0;
  /** -errno of the last survived read error (0: none yet). */
  lastReadError = 0;
  private fdValue: number;
  private readonly native: NativeIo;
  private readonly reserve: SlotReserve;
  private readonly gate: ReadGate;
  private readonly readStatus: Int32Array;
  /** Read buffer size: one byte over maxPacket, so a read filling it means "truncated". */
  private readLen: number;
  /** Bytes a packet carries beyond the MTU: TAP link header, virtio header. */
  private readonly framing: number;
  /** The offload paths when offloads are on; null on the plain path. */
  readonly offloads: TunOffloads | null;
  /** Why offloads were asked for and are off (the kernel or the pool refused): said once in the log. */
  readonly offloadRefused: string | null;

  /** Opens (or creates) the device. The caller closes it. */
  static open(name: string, options: TunOpenOptions): TunDevice {
    if (typeof name !== 'string' || Buffer.byteLength(name) >= IFNAMSIZ || name.includes('/') || name.includes('\0')) {
      throw new FerryError(ErrorCode.InvalidArgument, `TUN name must be a string of at most ${IFNAMSIZ - 1} bytes without '/', got ${JSON.stringify(name)}`);
    }
    if (options === null || typeof options !== 'object' || options.pool === undefined) {
      throw new FerryError(ErrorCode.InvalidArgument, 'TunDevice.open needs options.pool');
    }
    const native = loadNative();
    const flags = (options.tap ? native.TUN_TAP : 0) | (options.vnetHdr ? native.TUN_VNET_HDR : 0) | (options.multiQueue ? native.TUN_MULTI_QUEUE : 0);
    const limits = packetLimits(options.pool, options.tap === true, options.vnetHdr === true);
    if (options.mtu !== undefined) checkMtu(options.mtu, limits.maxMtu);
    const reserveSize = options.reserve ?? Math.min(DEFAULT_RESERVE, options.pool.slotCount);
    const { opened, offloads, refused } = openOffloads(native, name, flags, options);
    try {
      let mtu = options.mtu;
      if (mtu !== undefined) native.linkSetMtu(opened.name, mtu);
      else checkMtu((mtu = native.linkGetMtu(opened.name)), limits.maxMtu);
      if (options.up) native.linkSetUp(opened.name, true);
      const tun = new TunDevice(native, opened.fd, opened.name, options, reserveSize, offloads, refused);
      tun.fitReads(mtu);
      return tun;
    } catch (err) {
      native.closeFd(opened.fd);
      throw err;
    }
  }

  private constructor(
    native: NativeIo,
    fd: number,
    name: string,
    options: TunOpenOptions,
    reserveSize: number,
    offloads: TunOffloads | null,
    offloadRefused: string | null,
  ) {
    this.native = native;
    this.fdValue = fd;
    this.name = name;
    this.pool = options.pool;
    this.tap = options.tap === true;
    this.vnetHdr = options.vnetHdr === true || offloads !== null;
    this.offloads = offloads;
    this.offloadRefused = offloadRefused;
    const limits = packetLimits(this.pool, this.tap, this.vnetHdr);
    this.framing = limits.framing;
    this.readLen = limits.readLen;
    this.maxPacket = limits.readLen - 1;
    this.reserve = new SlotReserve(this.pool, reserveSize, false);
    this.gate = new ReadGate(fd, this.pool);
    this.readStatus = new Int32Array(native.IO_STATUS_LENGTH);
  }

  /** Poll errors libuv reported (the device went away, as a rule). */
  get pollErrors(): number {
    return this.gate.pollErrors;
  }

  /** The device fd (-1 once closed). */
  get fd(): number {
    return this.fdValue;
  }

  /** Packets dropped because they were larger than maxPacket (a whole large slot with offloads). */
  get truncated(): number {
    return this.reserve.truncated + (this.offloads === null ? 0 : this.offloads.reader.truncated);
  }

  /** Counts the drops of the offload path (tun_offload_bad_packet) in the datapath's counters. */
  attachDrops(drops: DropCounters): void {
    if (this.offloads !== null) this.offloads.reader.drops = drops;
  }

  /**
   * Reads packets of this MTU whole from now on: into large pool slots when small ones
   * cannot hold them (the datapath calls it when the interface MTU changes).
   */
  fitReads(mtu: number): void {
    this.offloads?.fitSegments(mtu);
    const reserve = this.reserve;
    if (!reserve.fit(mtu + this.framing)) return;
    this.readLen = reserve.capacity + (this.pool.tailroom > 0 ? 1 : 0);
    this.maxPacket = this.readLen - 1;
    this.gate.forgetStarve();
  }

  /** Name and flags from the fd itself: right even after a move to another namespace. */
  info(): TunDeviceInfo {
    const n = this.native;
    const { name, flags } = n.tunGetInfo(this.liveFd());
    return { name, tap: (flags & n.TUN_TAP) !== 0, vnetHdr: (flags & n.TUN_VNET_HDR) !== 0, multiQueue: (flags & n.TUN_MULTI_QUEUE) !== 0 };
  }

  readBatch(batch: PacketBatch): number {
    const fd = this.liveFd();
    const room = batch.capacity - batch.count;
    if (room <= 0) return 0;
    if (this.offloads !== null) return this.readOffloaded(fd, batch);
    const reserve = this.reserve;
    const have = reserve.refill();
    if (have === 0) {
      this.gate.starve(reserve.target > 4 ? reserve.target >> 2 : 1, reserve.slotClass);
      return 0;
    }
    const want = room < have ? room : have;
    const status = this.readStatus;
    const n = this.native.tunReadBatch(fd, this.pool.slab, reserve.offsets, reserve.lengths, this.readLen, want, status);
    if (status[0] !== 0) {
      this.readErrors += status[0];
      this.lastReadError = status[1];
    }
    if (n === 0) return 0;
    const added = reserve.handOver(batch, n);
    this.readPackets += added;
    return added;
  }

  writeBatch(batch: PacketBatch): number {
    const fd = this.liveFd();
    const count = batch.count;
    if (count === 0) return 0;
    const results = this.writeResults;
    const off = this.offloads;
    const ok = off !== null ? off.writer.write(fd, batch, results) : this.native.tunWriteBatch(fd, this.pool.slab, batch.offsets, batch.lengths, count, results);
    this.writtenPackets += ok;
    if (ok !== count) {
      this.writeErrors += count - ok;
      for (let i = count - 1; i >= 0; i--) {
        if (results[i] !== 0) {
          this.lastWriteError = results[i];
          break;
        }
      }
    }
    return ok;
  }

  /**
   * Receives poll errors (e.g. the interface was deleted) when start() is not given its
   * own handler: lets the daemon watch a TUN that a protocol device started.
   */
  onError: ((err: SystemError) => void) | undefined;

  /** onError (optional) receives poll errors, e.g. the device was deleted. */
  start(onReadable: () => void, onError: ((err: SystemError) => void) | undefined = this.onError): void {
    this.liveFd();
    const off = this.offloads;
    this.gate.start(off === null ? onReadable : off.readable(onReadable, this.gate), onError);
  }

  pause(): void {
    this.offloads?.pause();
    this.gate.pause();
  }

  resume(): void {
    this.gate.resume();
    this.offloads?.resume();
  }

  /** Stops polling, returns the reserve to the pool, forgets its pool waiter and closes the fd. Idempotent. */
  close(): void {
    if (this.fdValue < 0) return;
    this.gate.stop();
    this.offloads?.close();
    this.reserve.releaseAll();
    const fd = this.fdValue;
    this.fdValue = -1;
    this.native.closeFd(fd);
  }

  private readOffloaded(fd: number, batch: PacketBatch): number {
    const reader = this.offloads!.reader;
    const errorsBefore = reader.readErrors;
    const n = this.offloads!.read(fd, batch, this.readStatus);
    if (reader.readErrors !== errorsBefore) {
      this.readErrors += reader.readErrors - errorsBefore;
      this.lastReadError = reader.lastReadError;
    }
    this.readPackets += n;
    return n;
  }

  private liveFd(): number {
    if (this.fdValue < 0) throw new FerryError(ErrorCode.InvalidArgument, `TUN ${this.name} is closed`);
    return this.fdValue;
  }
}

/**
 * Reads use one byte more than the largest packet accepted: the kernel cuts longer
 * packets silently, so a read that fills the buffer is dropped as truncated. The byte
 * comes from the tailroom when there is one, else from the data capacity. readLen is for
 * small slots (fitReads moves to large ones); maxMtu is what the largest slots allow.
 */
function packetLimits(pool: BufferPool, tap: boolean, vnetHdr: boolean): { readLen: number; maxMtu: number; framing: number } {
  const extra = pool.tailroom > 0 ? 1 : 0;
  const framing = (tap ? TAP_OVERHEAD : 0) + (vnetHdr ? VNET_HDR_LEN : 0);
  return { readLen: pool.dataCapacity + extra, maxMtu: Math.max(pool.dataCapacity, pool.largeDataCapacity) + extra - 1 - framing, framing };
}

function checkMtu(mtu: number, maxMtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > maxMtu) {
    throw new FerryError(ErrorCode.InvalidArgument, `TUN MTU ${mtu} does not fit the pool: packets must fit in a slot's data capacity (MTU at most ${maxMtu})`);
  }
}

/** Reads a link's MTU (SIOCGIFMTU) in the current network namespace. */
export function getLinkMtu(name: string): number {
  return loadNative().linkGetMtu(name);
}
