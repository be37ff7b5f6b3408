/**
 * The VTEP peer table of an L3 overlay: peers by index, by MAC (per packet, from an
 * inner frame's source) and by subnet. Adding a peer claims its subnets in the
 * datapath's route table (through the plane's PlaneIo) with the peer as the route's
 * reference, all or nothing; a subnet another plane holds is a RouteConflict and leaves
 * everything as it was. Drops concerning a peer are counted by its underlay address
 * (vteps), so a datagram is attributed by its outer source.
 */
import type { PlaneIo } from '../datapath/plane.js';
import { ErrorCode, FerryError } from '../errors.js';
import { bytesEqual } from '../packet/bytes.js';
import { MAC_LENGTH } from '../packet/constants.js';
import { macToString } from '../packet/format.js';
import { formatPrefix, type IpPrefix } from '../table/prefix-trie.js';
import { MAX_PEERS } from './constants.js';
import { MacTable } from './mac-table.js';
import { VtepAddresses } from './vtep-addresses.js';
import { VtepPeer, type VtepPeerSpec } from './vtep-peer.js';

/** The prefix with its host bits cleared, as text: the key two peers must not share. */
function subnetKey(p: IpPrefix): string {
  const bytes = Uint8Array.from(p.bytes);
  for (let bit = p.cidr; bit < bytes.length * 8; bit++) bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  return formatPrefix({ family: p.family, bytes, cidr: p.cidr });
}

export class VtepPeers {
  private readonly byIndex: (VtepPeer | null)[] = [];
  private readonly freeIndexes: number[] = [];
  private readonly byMac: MacTable;
  private readonly bySubnet = new Map<string, VtepPeer>();
  private count = 0;
  /** Peers' underlay addresses with their drop counters (one row per address, shared by peers that share one). */
  readonly vteps: VtepAddresses;

  constructor(
    /** The plane's PlaneIo once it is mounted (peers are added after that). */
    private readonly io: () => PlaneIo | null,
    private readonly ourMac: Uint8Array,
    readonly maxPeers = MAX_PEERS,
  ) {
    this.byMac = new MacTable(maxPeers);
    this.vteps = new VtepAddresses(maxPeers);
  }

  get size(): number {
    return this.count;
  }

  /** Peers in index order (control path). */
  list(): VtepPeer[] {
    return this.byIndex.filter((p): p is VtepPeer => p !== null);
  }

  /** The peer whose VTEP MAC is at buf[off], or null. Hot path. */
  byMacAt(buf: Uint8Array, off: number): VtepPeer | null {
    const i = this.byMac.get(buf, off);
    return i < 0 ? null : this.byIndex[i];
  }

  /** The peer with this MAC (6 bytes), or null. */
  find(mac: Uint8Array): VtepPeer | null {
    return this.byMacAt(mac, 0);
  }

  /**
   * Adds a peer and routes its subnets to the plane. Throws InvalidArgument (the plane is
   * not mounted, its MAC is ours or another peer's, a subnet is another peer's, the table
   * is full) or RouteConflict (another plane holds a subnet); nothing changes then.
   */
  add(spec: VtepPeerSpec, port: number): VtepPeer {
    const io = this.io();
    if (io === null) throw new FerryError(ErrorCode.InvalidArgument, 'VXLAN peers are added once the plane is mounted on a datapath');
    const peer = new VtepPeer(spec, port);
    const mac = macToString(peer.mac, 0);
    if (bytesEqual(peer.mac, 0, this.ourMac, 0, MAC_LENGTH)) throw new FerryError(ErrorCode.InvalidArgument, `peer ${peer.remote}: VTEP MAC ${mac} is this VTEP's own`);
    if ((peer.mac[0] & 1) !== 0 || peer.mac.every((b) => b === 0)) throw new FerryError(ErrorCode.InvalidArgument, `peer ${peer.remote}: VTEP MAC ${mac} is not a unicast address`);
    const other = this.find(peer.mac);
    if (other !== null) throw new FerryError(ErrorCode.InvalidArgument, `peer ${peer.remote}: VTEP MAC ${mac} is already peer ${other.remote}'s`);
    if (this.count >= this.maxPeers) throw new FerryError(ErrorCode.InvalidArgument, `peer ${peer.remote}: the table holds at most ${this.maxPeers} peers`);
    const keys = peer.subnets.map(subnetKey);
    for (const key of keys) {
      const holder = this.bySubnet.get(key);
      if (holder !== undefined) throw new FerryError(ErrorCode.InvalidArgument, `peer ${peer.remote}: subnet ${key} is already peer ${holder.remote}'s`);
    }
    if (new Set(keys).size !== keys.length) throw new FerryError(ErrorCode.InvalidArgument, `peer ${peer.remote}: a subnet is listed twice`);
    for (const p of peer.subnets) {
      const owner = io.routeConflict(p);
      if (owner !== null) throw new FerryError(ErrorCode.RouteConflict, `peer ${peer.remote}: subnet ${subnetKey(p)} is already routed to ${owner}`);
    }
    for (const p of peer.subnets) io.claimRoute(p, peer);
    const index = this.freeIndexes.length > 0 ? (this.freeIndexes.pop() as number) : this.byIndex.length;
    peer.index = index;
    this.byIndex[index] = peer;
    this.byMac.set(peer.mac, 0, index);
    for (const key of keys) this.bySubnet.set(key, peer);
    peer.vtep = this.vteps.ref(peer.endpoint, 0);
    this.count++;
    return peer;
  }

  /** Removes a peer and its routes. */
  remove(peer: VtepPeer): boolean {
    if (peer.index < 0 || this.byIndex[peer.index] !== peer) return false;
    this.io()?.releaseRoutes(peer);
    this.byMac.delete(peer.mac, 0);
    for (const p of peer.subnets) this.bySubnet.delete(subnetKey(p));
    this.vteps.unref(peer.vtep);
    peer.vtep = -1;
    this.byIndex[peer.index] = null;
    this.freeIndexes.push(peer.index);
    peer.index = -1;
    this.count--;
    return true;
  }

  clear(): void {
    for (const p of this.list()) this.remove(p);
  }
}
