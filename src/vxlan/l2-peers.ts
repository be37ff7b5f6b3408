/**
 * The configured remote VTEPs of an L2 overlay, as `bridge fdb append` and `bridge fdb
 * add … permanent` program a kernel VTEP: each peer is an all-zero-MAC (flood) entry —
 * it gets a copy of broadcast, multicast and unknown-unicast frames — and, when its MAC
 * is given, a static FDB entry for that MAC. Control path only: the plane forwards by
 * the FDB, never by this list.
 */
import { ErrorCode, FerryError } from '../errors.js';
import { MAC_LENGTH } from '../packet/constants.js';
import { macToString } from '../packet/format.js';
import type { Fdb } from './fdb.js';

export interface L2PeerSpec {
  /** The peer's underlay address (IPv4 or IPv6 text, no port). */
  remote: string;
  /** A MAC behind it (6 bytes), pinned as a static entry; null: learned, or flooded. */
  mac: Uint8Array | null;
}

export interface L2Peer {
  readonly remote: string;
  readonly family: 4 | 6;
  readonly mac: Uint8Array | null;
  /** "aa:bb:…" or null. */
  readonly macText: string | null;
}

export class L2Peers {
  private readonly peers: L2Peer[] = [];

  constructor(private readonly fdb: Fdb) {}

  get size(): number {
    return this.peers.length;
  }

  list(): L2Peer[] {
    return [...this.peers];
  }

  /** Adds a flood entry (and a static entry for its MAC) at the overlay port. Throws, changing nothing, when it cannot. */
  add(spec: L2PeerSpec, port: number): L2Peer {
    const family: 4 | 6 = spec.remote.includes(':') ? 6 : 4;
    if (this.peers.some((p) => p.remote === spec.remote)) throw new FerryError(ErrorCode.InvalidArgument, `${spec.remote} is already a peer`);
    if (spec.mac !== null && (spec.mac.length !== MAC_LENGTH || (spec.mac[0] & 1) !== 0)) throw new FerryError(ErrorCode.InvalidArgument, 'a peer MAC must be 6 bytes and unicast');
    const macText = spec.mac === null ? null : macToString(spec.mac, 0);
    if (macText !== null && this.peers.some((p) => p.macText === macText)) throw new FerryError(ErrorCode.InvalidArgument, `MAC ${macText} is already a peer's`);
    const remote = { family, address: spec.remote, port };
    if (spec.mac !== null) this.fdb.addStatic(spec.mac, remote);
    try {
      this.fdb.appendFlood(remote);
    } catch (err) {
      if (spec.mac !== null) this.fdb.remove(spec.mac);
      throw err;
    }
    const peer: L2Peer = { remote: spec.remote, family, mac: spec.mac === null ? null : Uint8Array.from(spec.mac), macText };
    this.peers.push(peer);
    return peer;
  }

  remove(peer: L2Peer, port: number): boolean {
    const i = this.peers.indexOf(peer);
    if (i < 0) return false;
    this.peers.splice(i, 1);
    this.fdb.removeFlood({ family: peer.family, address: peer.remote, port });
    if (peer.mac !== null) this.fdb.remove(peer.mac);
    return true;
  }
}
