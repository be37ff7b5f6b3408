/**
 * A VXLAN interface's settings, as the config's [FerryVxlan] and [FerryVxlanPeer]
 * sections give them (src/config/vxlan-settings.ts builds them, checked). Plain data:
 * the daemon turns them into a plane and its peers.
 */
import type { IpPrefix } from '../table/prefix-trie.js';

export type VxlanMode = 'l3' | 'l2';

export interface VxlanPeerSettings {
  /** Underlay address of the remote VTEP (IP text). */
  remote: string;
  family: 4 | 6;
  /** Its VTEP MAC (L3: required; L2: a static FDB entry when given). */
  vtepMac: Uint8Array | null;
  /** Inner prefixes it owns (L3). */
  subnets: IpPrefix[];
  /** Line of its [FerryVxlanPeer] header, for messages. */
  line: number;
}

export interface VxlanSettings {
  mode: VxlanMode;
  vni: number;
  /** UDP port: ours (bound) and the peers'. */
  port: number;
  /** Underlay address to bind and send from; null: any. */
  local: string | null;
  /** Our VTEP MAC: as given, or derived from host, interface and VNI. */
  vtepMac: Uint8Array;
  vtepMacDerived: boolean;
  /** L2 only: learn source MACs into the FDB. */
  learning: boolean;
  peers: VxlanPeerSettings[];
  /** The underlay's family, which sets the overhead: Local's, else IPv6 when any peer is IPv6. */
  underlayFamily: 4 | 6;
  /** Line of [FerryVxlan]. */
  line: number;
}
