/**
 * The L3 VTEP (flannel.1's role) as a datapath plane. Out: the route table hands it inner
 * IP packets with the peer that owns their destination; it writes the inner Ethernet
 * header (our VTEP MAC to the peer's) and the VXLAN header into the slot's headroom and
 * queues the datagram to the peer's underlay address, without copying the packet. In:
 * datagrams from the plane's port are checked (header, VNI, destination MAC, loops),
 * ARP requests and neighbour solicitations for our addresses are answered back to the
 * VTEP that asked, and IPv4/IPv6 goes to the host with its ECN field decapsulated as
 * RFC 6040 says. Every datagram not delivered or answered is a drop with a reason.
 *
 * The outer ECN field travels in byte 1 of a datagram's endpoint record (src/io/endpoint.ts:
 * the port reports it with recvTos, and sends byte 1 as the outer TOS). The outer UDP
 * source port is the port's bound port (docs/vxlan.md says why).
 */
import type { PacketBatch } from '../buffer/batch.js';
import type { OutBatch } from '../datapath/out-batch.js';
import type { Plane, PlaneIo } from '../datapath/plane.js';
import { ErrorCode, FerryError } from '../errors.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';
import { bytesEqual, readU16 } from '../packet/bytes.js';
import { ETHERNET_HEADER_LENGTH, EtherType, IPV4_HEADER_LENGTH, IPV6_HEADER_LENGTH, MAC_LENGTH } from '../packet/constants.js';
import { ecnDecapsulate, ecnEncapsulate, ipEcn, setIpEcn } from '../packet/ecn.js';
import { writeEthernetHeader } from '../packet/ethernet.js';
import { isIcmpv6Type, NdpType } from '../packet/ndp.js';
import { parseVxlan, VXLAN_HEADER_LENGTH, VXLAN_VNI_MAX, VxlanHeader, writeVxlanHeader } from '../packet/vxlan.js';
import { DropCounters, DropReason } from '../stats/drop-reasons.js';
import type { IpPrefix } from '../table/prefix-trie.js';
import { DEFAULT_PORT, DEFAULT_VNI, MAX_PEERS, VXLAN_INNER_OVERHEAD } from './constants.js';
import { LocalAddresses } from './local-addresses.js';
import { NeighborResponder } from './neighbor-responder.js';
import { dropReceived } from './received-drop.js';
import type { VtepAddresses } from './vtep-addresses.js';
import type { VtepPeer, VtepPeerSpec } from './vtep-peer.js';
import { VtepPeers } from './vtep-peers.js';

/** Out-batch tags: an encapsulated packet for a peer, or an ARP/ND answer. */
const VxlanTag = {
  Data: 0,
  NeighborReply: 1,
} as const;

const EAGAIN = -11;

interface VxlanPlaneOptions {
  /** Our VTEP MAC (6 bytes, unicast). */
  mac: Uint8Array;
  vni?: number;
  /** The UDP port peers listen on (ours is the port the datapath gave the plane). Default 8472. */
  port?: number;
  /** Addresses answered in ARP and neighbour discovery (the interface's). */
  localAddresses?: readonly IpPrefix[];
  maxPeers?: number;
  /** Plane name; default "vxlan". */
  name?: string;
}

export interface VxlanStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
}

export class VxlanPlane implements Plane {
  readonly name: string;
  readonly drops = new DropCounters();
  readonly overhead = VXLAN_INNER_OVERHEAD;
  vni: number;
  port: number;
  readonly mac: Uint8Array;
  readonly peers: VtepPeers;
  readonly locals: LocalAddresses;
  readonly neighbors: NeighborResponder;
  /** Inner frames (Ethernet header included) delivered and sent. */
  readonly stats: VxlanStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0 };
  private io: PlaneIo | null = null;
  private readonly vx = new VxlanHeader();
  /** Where an answer goes: the asking VTEP's address at the overlay's port. */
  private readonly replyEndpoint = new Uint8Array(ENDPOINT_STRIDE);

  constructor(options: VxlanPlaneOptions) {
    const vni = options.vni ?? DEFAULT_VNI;
    const port = options.port ?? DEFAULT_PORT;
    if (!Number.isInteger(vni) || vni < 0 || vni > VXLAN_VNI_MAX) throw new FerryError(ErrorCode.InvalidArgument, `VNI must be an integer in [0, ${VXLAN_VNI_MAX}], got ${vni}`);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FerryError(ErrorCode.InvalidArgument, `VXLAN port must be an integer in [1, 65535], got ${port}`);
    if (options.mac.length !== MAC_LENGTH || (options.mac[0] & 1) !== 0) throw new FerryError(ErrorCode.InvalidArgument, 'the VTEP MAC must be 6 bytes and unicast');
    this.name = options.name ?? 'vxlan';
    this.vni = vni;
    this.port = port;
    this.mac = Uint8Array.from(options.mac);
    this.locals = new LocalAddresses(options.localAddresses ?? []);
    this.neighbors = new NeighborResponder(this.mac, this.locals);
    this.peers = new VtepPeers(() => this.io, this.mac, options.maxPeers ?? MAX_PEERS);
  }

  /**
   * Changes the VNI and our VTEP MAC (a reload). The MAC is rewritten in place: the
   * responder and the peer table hold the same bytes. Refused when a peer has that MAC.
   */
  setIdentity(vni: number, mac: Uint8Array): void {
    if (!Number.isInteger(vni) || vni < 0 || vni > VXLAN_VNI_MAX) throw new FerryError(ErrorCode.InvalidArgument, `VNI must be an integer in [0, ${VXLAN_VNI_MAX}], got ${vni}`);
    if (mac.length !== MAC_LENGTH || (mac[0] & 1) !== 0) throw new FerryError(ErrorCode.InvalidArgument, 'the VTEP MAC must be 6 bytes and unicast');
    if (this.peers.find(mac) !== null) throw new FerryError(ErrorCode.InvalidArgument, 'the VTEP MAC is a peer\'s');
    this.vni = vni;
    this.mac.set(mac);
  }

  /** Changes the port peers listen on (a reload with a new Port): every peer's record follows. */
  setOverlayPort(port: number): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new FerryError(ErrorCode.InvalidArgument, `VXLAN port must be an integer in [1, 65535], got ${port}`);
    this.port = port;
    for (const peer of this.peers.list()) {
      peer.endpoint[2] = port >>> 8;
      peer.endpoint[3] = port & 0xff;
    }
  }

  /** Adds a remote VTEP and routes its subnets here, once mounted (see VtepPeers.add for what throws). */
  addPeer(spec: VtepPeerSpec): VtepPeer {
    return this.peers.add(spec, this.port);
  }

  removePeer(peer: VtepPeer): boolean {
    return this.peers.remove(peer);
  }

  /** The peers' underlay addresses with their drop counters. */
  get vteps(): VtepAddresses {
    return this.peers.vteps;
  }

  attach(io: PlaneIo): void {
    this.io = io;
  }

  start(_now: number): void {}

  stop(): void {}

  // A deliberate twin of VxlanL2Plane.encapsulate (l2-plane.ts): the same walk over the batch
  // and headroom check; this VTEP writes the inner Ethernet header for the routed peer.
  encapsulate(batch: PacketBatch, refs: readonly unknown[]): void {
    const io = this.io as PlaneIo;
    const pool = io.pool;
    const slab = pool.slab;
    const n = batch.count;
    for (let i = 0; i < n; i++) {
      const slot = batch.slots[i];
      const off = batch.offsets[i];
      const len = batch.lengths[i];
      const peer = refs[i] as VtepPeer;
      const start = off - VXLAN_INNER_OVERHEAD;
      if (start < pool.slotBase(slot)) {
        if (io.capturing) io.captureDrop(DropReason.VxlanNoHeadroom, off, len, peer, null, 0);
        this.peers.vteps.countDrop(peer.vtep, DropReason.VxlanNoHeadroom);
        this.drop(slot, DropReason.VxlanNoHeadroom);
        continue;
      }
      writeVxlanHeader(slab, start, this.vni);
      writeEthernetHeader(slab, start + VXLAN_HEADER_LENGTH, peer.mac, 0, this.mac, 0, slab[off] >>> 4 === 6 ? EtherType.IPv6 : EtherType.IPv4);
      const k = io.queue(slot, start, len + VXLAN_INNER_OVERHEAD, peer.endpoint, 0, peer, VxlanTag.Data);
      // RFC 6040 (as Linux): the outer ECN field copies the inner one, CE sent as ECT(0).
      if (k >= 0) io.out.endpoints[k * ENDPOINT_STRIDE + 1] = ecnEncapsulate(ipEcn(slab, off));
      // The datapath dropped it (and counted it for the plane): the socket stays full.
      else this.peers.vteps.countDrop(peer.vtep, DropReason.UdpSendBlocked);
    }
    batch.count = 0;
  }

  decapsulate(batch: PacketBatch): void {
    const n = batch.count;
    for (let i = 0; i < n; i++) this.decapsulateOne(batch, i);
    batch.count = 0;
  }

  private decapsulateOne(batch: PacketBatch, i: number): void {
    const io = this.io as PlaneIo;
    const pool = io.pool;
    const slab = pool.slab;
    const slot = batch.slots[i];
    const off = batch.offsets[i];
    const len = batch.lengths[i];
    const vx = this.vx;
    const reason = parseVxlan(slab, off, len, vx);
    if (reason !== DropReason.None) return this.dropIn(batch, i, reason);
    if (vx.vni !== this.vni) return this.dropIn(batch, i, DropReason.VxlanUnknownVni);
    const frame = vx.frameOffset;
    const frameLen = vx.frameLength;
    if (frameLen < ETHERNET_HEADER_LENGTH) return this.dropIn(batch, i, DropReason.Truncated);
    const mac = this.mac;
    // Ours, or broadcast/multicast (ARP, neighbour discovery): anything else is another host's.
    if ((slab[frame] & 1) === 0 && !bytesEqual(slab, frame, mac, 0, MAC_LENGTH)) return this.dropIn(batch, i, DropReason.VxlanNotForUs);
    if (bytesEqual(slab, frame + MAC_LENGTH, mac, 0, MAC_LENGTH)) return this.dropIn(batch, i, DropReason.VxlanLoop);
    const type = readU16(slab, frame + 12);
    const ip = frame + ETHERNET_HEADER_LENGTH;
    const ipRoom = frameLen - ETHERNET_HEADER_LENGTH;
    let total = 0;
    if (type === EtherType.IPv4) {
      if (ipRoom < IPV4_HEADER_LENGTH) return this.dropIn(batch, i, DropReason.Truncated);
      if (slab[ip] >>> 4 !== 4) return this.dropIn(batch, i, DropReason.BadVersion);
      total = readU16(slab, ip + 2);
      if (total < IPV4_HEADER_LENGTH || total > ipRoom) return this.dropIn(batch, i, DropReason.BadTotalLength);
    } else if (type === EtherType.IPv6) {
      if (ipRoom < IPV6_HEADER_LENGTH) return this.dropIn(batch, i, DropReason.Truncated);
      if (slab[ip] >>> 4 !== 6) return this.dropIn(batch, i, DropReason.BadVersion);
      total = IPV6_HEADER_LENGTH + readU16(slab, ip + 4);
      if (total > ipRoom) return this.dropIn(batch, i, DropReason.BadTotalLength);
      if (isIcmpv6Type(slab, ip, total, NdpType.NeighborSolicitation)) {
        const room = pool.dataOffset(slot) + pool.capacityOf(slot) - frame;
        return this.answer(batch, i, this.neighbors.answerSolicitation(slab, frame, ETHERNET_HEADER_LENGTH + total, room));
      }
    } else if (type === EtherType.ARP) {
      return this.answer(batch, i, this.neighbors.answerArp(slab, frame, frameLen));
    } else {
      return this.dropIn(batch, i, DropReason.VxlanUnsupportedEtherType);
    }
    // RFC 6040: fold the outer ECN field into the inner one.
    const inner = ipEcn(slab, ip);
    const ecn = ecnDecapsulate(batch.endpoints[i * ENDPOINT_STRIDE + 1], inner);
    if (ecn < 0) return this.dropIn(batch, i, DropReason.VxlanEcnNotEct);
    if (ecn !== inner) setIpEcn(slab, ip, ecn);
    const peer = this.peers.byMacAt(slab, frame + MAC_LENGTH);
    if (peer !== null) {
      peer.rxPackets++;
      peer.rxBytes += ETHERNET_HEADER_LENGTH + total;
    }
    this.stats.rxPackets++;
    this.stats.rxBytes += ETHERNET_HEADER_LENGTH + total;
    io.deliver(slot, ip, total, peer);
  }

  /** Sends an ARP/ND answer (frame length > 0) back to the asking VTEP, or drops (-reason). */
  private answer(batch: PacketBatch, i: number, frameLen: number): void {
    if (frameLen <= 0) return this.dropIn(batch, i, -frameLen);
    // The asker's address, at the overlay's port (its source port is a flow hash, not a listener).
    const ep = this.replyEndpoint;
    const from = i * ENDPOINT_STRIDE;
    for (let k = 0; k < ENDPOINT_STRIDE; k++) ep[k] = batch.endpoints[from + k];
    ep[1] = 0;
    ep[2] = this.port >>> 8;
    ep[3] = this.port & 0xff;
    (this.io as PlaneIo).queue(batch.slots[i], batch.offsets[i], VXLAN_HEADER_LENGTH + frameLen, ep, 0, null, VxlanTag.NeighborReply);
  }

  prepare(_out: OutBatch, _from: number, _to: number): void {}

  sent(out: OutBatch, count: number, results: Int32Array): void {
    for (let i = 0; i < count; i++) {
      if (out.tags[i] !== VxlanTag.Data) continue;
      const r = results[i];
      if (r === EAGAIN) continue;
      const peer = out.refs[i] as VtepPeer;
      if (r === 0) {
        const bytes = out.lengths[i] - VXLAN_HEADER_LENGTH;
        peer.txPackets++;
        peer.txBytes += bytes;
        this.stats.txPackets++;
        this.stats.txBytes += bytes;
      } else {
        peer.txErrors++;
        this.stats.txErrors++;
        // The datapath counts it for the plane (udp_send_failed); this is the VTEP's share.
        this.peers.vteps.countDrop(peer.vtep, DropReason.UdpSendFailed);
      }
    }
  }

  poll(_now: number, _budget: number): boolean {
    return false;
  }

  tick(_now: number): void {}

  /** Holds no slots between calls: nothing to give back. Peers and their routes stay with the table. */
  close(): void {}

  /** A received datagram dropped: counted for the plane and for its VTEP when known. */
  private dropIn(batch: PacketBatch, i: number, reason: number): void {
    dropReceived(this.io as PlaneIo, this.drops, this.peers.vteps, batch, i, reason);
  }

  private drop(slot: number, reason: number): void {
    (this.io as PlaneIo).pool.release(slot);
    this.drops.count(reason);
  }
}
