/**
 * A remote VTEP of an L3 overlay (one flannel node): where its VXLAN datagrams go, the MAC
 * its inner frames carry, and the inner prefixes it owns. Counters are per peer, as
 * `ferry vxlan show` prints them.
 */
import { ENDPOINT_STRIDE, encodeEndpoint } from '../io/endpoint.js';
import { MAC_LENGTH } from '../packet/constants.js';
import { macToString } from '../packet/format.js';
import type { IpPrefix } from '../table/prefix-trie.js';

export interface VtepPeerSpec {
  /** The peer's underlay address (IPv4 or IPv6 text, no port). */
  remote: string;
  /** Its VTEP MAC (6 bytes). */
  mac: Uint8Array;
  /** Inner prefixes routed to it. */
  subnets: IpPrefix[];
}

export class VtepPeer {
  readonly remote: string;
  readonly family: 4 | 6;
  readonly mac: Uint8Array;
  readonly subnets: readonly IpPrefix[];
  /** The endpoint record datagrams to it carry (its address, the overlay's port). */
  readonly endpoint = new Uint8Array(ENDPOINT_STRIDE);
  /** Index in its table (stable while it lives). */
  index = -1;
  txPackets = 0;
  txBytes = 0;
  rxPackets = 0;
  rxBytes = 0;
  /** Datagrams to it the kernel refused. */
  txErrors = 0;
  /** Its row in the table's VTEP drop counters (VtepPeers.vteps), -1 while not in a table. */
  vtep = -1;

  constructor(spec: VtepPeerSpec, port: number) {
    this.remote = spec.remote;
    this.family = spec.remote.includes(':') ? 6 : 4;
    if (spec.mac.length !== MAC_LENGTH) throw new RangeError('a VTEP MAC is 6 bytes');
    this.mac = Uint8Array.from(spec.mac);
    this.subnets = spec.subnets.map((p) => ({ family: p.family, bytes: Uint8Array.from(p.bytes), cidr: p.cidr }));
    encodeEndpoint({ address: spec.remote, port, family: this.family }, this.endpoint, 0);
  }

  get macText(): string {
    return macToString(this.mac, 0);
  }
}
