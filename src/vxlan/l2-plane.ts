/**
 * The L2 VTEP (a kernel vxlan device in a bridge) as a datapath plane on a TAP. Out: the
 * datapath hands it every frame the TAP gives (no IP checks, no route table); a unicast
 * destination MAC the FDB knows goes to that one VTEP, anything else (broadcast,
 * multicast, unknown unicast) to every all-zero (flood) entry, a copy each. The VXLAN
 * header is written in the slot's headroom in front of the frame; flood copies go into
 * slots taken from the pool. In: the header and VNI are checked, the inner source MAC is
 * learned against the sending VTEP's address (Learning = true), and the frame goes to
 * the TAP whatever its destination (the bridge behind it decides). ECN is encapsulated
 * and decapsulated as RFC 6040 says when the frame carries IPv4 or IPv6 (as Linux does).
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { OutBatch } from '../datapath/out-batch.js';
import type { Plane, PlaneIo } from '../datapath/plane.js';
import { ErrorCode, FerryError } from '../errors.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';
import { bytesEqual, readU16 } from '../packet/bytes.js';
import { ETHERNET_HEADER_LENGTH, EtherType, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, MAC_LENGTH } from '../packet/constants.js';
import { ecnDecapsulate, ecnEncapsulate, ipEcn, setIpEcn } from '../packet/ecn.js';
import { parseVxlan, VXLAN_HEADER_LENGTH, VXLAN_VNI_MAX, VxlanHeader, writeVxlanHeader } from '../packet/vxlan.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import { DEFAULT_FDB_MAX, DEFAULT_PORT, DEFAULT_VNI, FDB_AGEING_MS } from './constants.js';
import { Fdb, LearnResult } from './fdb.js';
import { type L2Peer, L2Peers, type L2PeerSpec } from './l2-peers.js';
import type { VxlanStats } from './l3-plane.js';
import { dropReceived } from './received-drop.js';
import type { VtepAddresses } from './vtep-addresses.js';

const EAGAIN = -11;

export interface VxlanL2PlaneOptions {
  /** Our VTEP MAC: frames from it coming back are a loop. */
  mac: Uint8Array;
  vni?: number;
  /** The UDP port peers listen on. Default 8472. */
  port?: number;
  /** Learn inner source MACs into the FDB. Default false. */
  learning?: boolean;
  /** FDB bound (learned and static entries). Default 4096. */
  fdbSize?: number;
  ageingMs?: number;
  name?: string;
}

function checkIdentity(vni: number, mac: Uint8Array): void {
  if (!Number.isInteger(vni) || vni < 0 || vni > VXLAN_VNI_MAX) throw new FerryError(ErrorCode.InvalidArgument, `VNI must be an integer in [0, ${VXLAN_VNI_MAX}], got ${vni}`);
  if (mac.length !== MAC_LENGTH || (mac[0] & 1) !== 0) throw new FerryError(ErrorCode.InvalidArgument, 'the VTEP MAC must be 6 bytes and unicast');
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FerryError(ErrorCode.InvalidArgument, `VXLAN port must be an integer in [1, 65535], got ${port}`);
}

/** The outer ECN field for a frame: the inner IP packet's, CE sent as ECT(0); 0 for anything else. */
function outerEcn(slab: Uint8Array, off: number, len: number): number {
  const type = readU16(slab, off + 12);
  const ip = off + ETHERNET_HEADER_LENGTH;
  if (type === EtherType.IPv4 ? len >= ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH && slab[ip] >>> 4 === 4 : type === EtherType.IPv6 && len >= ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH && slab[ip] >>> 4 === 6) {
    return ecnEncapsulate(ipEcn(slab, ip));
  }
  return 0;
}

export class VxlanL2Plane implements Plane {
  readonly name: string;
  readonly drops = new DropCounters();
  vni: number;
  port: number;
  learning: boolean;
  readonly mac: Uint8Array;
  readonly fdb: Fdb;
  readonly peers: L2Peers;
  /** Frames delivered to the TAP and sent (a flood counts each copy). */
  readonly stats: VxlanStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0 };
  /** Frames flooded (sent to every all-zero entry). */
  flooded = 0;
  private io: PlaneIo | null = null;
  private readonly vx = new VxlanHeader();

  constructor(options: VxlanL2PlaneOptions) {
    const vni = options.vni ?? DEFAULT_VNI;
    const port = options.port ?? DEFAULT_PORT;
    checkIdentity(vni, options.mac);
    checkPort(port);
    this.name = options.name ?? 'vxlan';
    this.vni = vni;
    this.port = port;
    this.learning = options.learning ?? false;
    this.mac = Uint8Array.from(options.mac);
    this.fdb = new Fdb(options.fdbSize ?? DEFAULT_FDB_MAX, options.ageingMs ?? FDB_AGEING_MS);
    this.peers = new L2Peers(this.fdb);
  }

  /** A new VNI or VTEP MAC (a reload). */
  setIdentity(vni: number, mac: Uint8Array): void {
    checkIdentity(vni, mac);
    this.vni = vni;
    this.mac.set(mac);
  }

  /** A new port peers listen on (a reload): every FDB entry follows. */
  setOverlayPort(port: number): void {
    checkPort(port);
    this.port = port;
    this.fdb.setPort(port);
  }

  /** Turns learning on or off; off forgets what was learned (only static and flood entries remain). */
  setLearning(learning: boolean): void {
    if (this.learning && !learning) this.fdb.flushLearned();
    this.learning = learning;
  }

  addPeer(spec: L2PeerSpec): L2Peer {
    return this.peers.add(spec, this.port);
  }

  removePeer(peer: L2Peer): boolean {
    return this.peers.remove(peer, this.port);
  }

  /** The VTEPs the FDB points at, with their drop counters. */
  get vteps(): VtepAddresses {
    return this.fdb.vteps;
  }

  attach(io: PlaneIo): void {
    this.io = io;
  }

  start(_now: number): void {}

  stop(): void {}

  // A deliberate twin of VxlanPlane.encapsulate (l3-plane.ts): the same walk over the batch
  // and headroom check; the L2 VTEP writes no Ethernet header and looks the frame up in the FDB.
  encapsulate(batch: PacketBatch, _refs: readonly unknown[]): void {
    const io = this.io as PlaneIo;
    const pool = io.pool;
    const slab = pool.slab;
    const fdb = this.fdb;
    const n = batch.count;
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i];
      const off = batch.offsets[i];
      const len = batch.lengths[i];
      const start = off - VXLAN_HEADER_LENGTH;
      const e = (slab[off] & 1) === 0 ? fdb.lookup(slab, off) : -1;
      if (start < pool.slotBase(slot)) {
        if (e >= 0) fdb.vteps.countDrop(fdb.vtepOf[e], DropReason.VxlanNoHeadroom);
        this.drop(slot, DropReason.VxlanNoHeadroom);
        continue;
      }
      writeVxlanHeader(slab, start, this.vni);
      const tos = outerEcn(slab, off, len);
      if (e >= 0) this.send(slot, start, len + VXLAN_HEADER_LENGTH, fdb.endpoints, e * ENDPOINT_STRIDE, tos, fdb.vtepOf[e]);
      else this.flood(slot, start, len + VXLAN_HEADER_LENGTH, tos);
    }
    batch.count = 0;
  }

  /** A copy to every flood entry but the first, in a slot of its own; the original to the first. */
  private flood(slot: number, start: number, length: number, tos: number): void {
    const fdb = this.fdb;
    const n = fdb.floodCount;
    if (n === 0) return this.drop(slot, DropReason.VxlanNoFdbEntry);
    this.flooded++;
    const pool = (this.io as PlaneIo).pool;
    const slab = pool.slab;
    // The copy keeps the original's place in its slot, so it fits as the original does.
    const at = start - pool.slotBase(slot);
    for (let k = 1; k < n; k++) {
      const copy = pool.acquire(pool.classOf(slot));
      if (copy < 0) {
        fdb.vteps.countDrop(fdb.floodVteps[k], DropReason.PoolExhausted);
        this.drops.count(DropReason.PoolExhausted);
        continue;
      }
      const to = pool.slotBase(copy) + at;
      slab.copyWithin(to, start, start + length);
      this.send(copy, to, length, fdb.flood, k * ENDPOINT_STRIDE, tos, fdb.floodVteps[k]);
    }
    this.send(slot, start, length, fdb.flood, 0, tos, fdb.floodVteps[0]);
  }

  /** Queues a datagram to the VTEP at records[at] (row `vtep` of fdb.vteps). */
  private send(slot: number, start: number, length: number, records: Uint8Array, at: number, tos: number, vtep: number): void {
    const io = this.io as PlaneIo;
    const k = io.queue(slot, start, length, records, at, null, 0);
    if (k >= 0) io.out.endpoints[k * ENDPOINT_STRIDE + 1] = tos;
    // The datapath dropped it (and counted it for the plane): the socket stays full.
    else this.fdb.vteps.countDrop(vtep, DropReason.UdpSendBlocked);
  }

  decapsulate(batch: PacketBatch): void {
    const n = batch.count;
    for (let i = 0; i < n; i++) this.decapsulateOne(batch, i);
    batch.count = 0;
  }

  private decapsulateOne(batch: PacketBatch, i: number): void {
    const io = this.io as PlaneIo;
    const slab = io.pool.slab;
    const slot = batch.slots[i];
    const vx = this.vx;
    const reason = parseVxlan(slab, batch.offsets[i], batch.lengths[i], vx);
    if (reason !== DropReason.None) return this.dropIn(batch, i, reason);
    if (vx.vni !== this.vni) return this.dropIn(batch, i, DropReason.VxlanUnknownVni);
    const frame = vx.frameOffset;
    const frameLen = vx.frameLength;
    if (frameLen < ETHERNET_HEADER_LENGTH) return this.dropIn(batch, i, DropReason.Truncated);
    const src = frame + MAC_LENGTH;
    if ((slab[src] & 1) !== 0 || (slab[src] | slab[src + 1] | slab[src + 2] | slab[src + 3] | slab[src + 4] | slab[src + 5]) === 0) {
      return this.dropIn(batch, i, DropReason.VxlanBadSourceMac);
    }
    if (bytesEqual(slab, src, this.mac, 0, MAC_LENGTH)) return this.dropIn(batch, i, DropReason.VxlanLoop);
    if (this.learning) {
      const learned = this.fdb.learn(slab, src, batch.endpoints, i * ENDPOINT_STRIDE, this.port, io.now);
      if (learned === LearnResult.StaticMoved) return this.dropIn(batch, i, DropReason.VxlanStaticMacMoved);
      // A full table learns nothing, but the frame still goes through (as in the kernel).
      if (learned === LearnResult.Full) {
        this.drops.count(DropReason.VxlanFdbFull);
        this.fdb.vteps.countDrop(this.fdb.vteps.find(batch.endpoints, i * ENDPOINT_STRIDE), DropReason.VxlanFdbFull);
      }
    }
    const type = readU16(slab, frame + 12);
    const ip = frame + ETHERNET_HEADER_LENGTH;
    const isIp = type === EtherType.IPv4 ? frameLen >= ETHERNET_HEADER_LENGTH + IPV4_HEADER_LENGTH && slab[ip] >>> 4 === 4 : type === EtherType.IPv6 && frameLen >= ETHERNET_HEADER_LENGTH + IPV6_HEADER_LENGTH && slab[ip] >>> 4 === 6;
    if (isIp) {
      // RFC 6040: fold the outer ECN field into the inner one.
      const inner = ipEcn(slab, ip);
      const ecn = ecnDecapsulate(batch.endpoints[i * ENDPOINT_STRIDE + 1], inner);
      if (ecn < 0) return this.dropIn(batch, i, DropReason.VxlanEcnNotEct);
      if (ecn !== inner) setIpEcn(slab, ip, ecn);
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += frameLen;
    io.deliver(slot, frame, frameLen);
  }

  prepare(_out: OutBatch, _from: number, _to: number): void {}

  sent(out: OutBatch, count: number, results: Int32Array): void {
    for (let i = 0; i < count; i++) {
      const r = results[i];
      if (r === EAGAIN) continue;
      if (r === 0) {
        this.stats.txPackets++;
        this.stats.txBytes += out.lengths[i] - VXLAN_HEADER_LENGTH;
      } else {
        this.stats.txErrors++;
        // The datapath counts it for the plane (udp_send_failed); this is the VTEP's share.
        this.fdb.vteps.countDrop(this.fdb.vteps.find(out.endpoints, i * ENDPOINT_STRIDE), DropReason.UdpSendFailed);
      }
    }
  }

  poll(_now: number, _budget: number): boolean {
    return false;
  }

  /** Ages learned FDB entries out (Fdb.age sweeps at most once a second). */
  tick(now: number): void {
    this.fdb.age(now);
  }

  /** Holds no slots between calls. */
  close(): void {}

  /** A received datagram dropped: counted for the plane and for its VTEP when known. */
  private dropIn(batch: PacketBatch, i: number, reason: number): void {
    dropReceived(this.io as PlaneIo, this.drops, this.fdb.vteps, batch, i, reason);
  }

  private drop(slot: number, reason: number): void {
    (this.io as PlaneIo).pool.release(slot);
    this.drops.count(reason);
  }
}
