/**
 * What a reload changes in the peer table: peers whose remote, MAC and subnets are all
 * unchanged stay as they are (their counters too); every other current peer goes, and
 * every other configured peer comes. A peer whose subnets or remote changed is one that
 * goes and one that comes: its routes move in one step of the reload.
 */
import { formatPrefix } from '../table/prefix-trie.js';
import { macToString } from '../packet/format.js';
import type { VxlanPeerSettings } from './settings.js';
import type { VtepPeer } from './vtep-peer.js';

interface PeerChanges {
  remove: VtepPeer[];
  add: VxlanPeerSettings[];
  unchanged: number;
}

function key(remote: string, mac: Uint8Array, subnets: readonly { family: 4 | 6; bytes: Uint8Array; cidr: number }[]): string {
  return `${remote}|${macToString(mac, 0)}|${subnets.map(formatPrefix).sort().join(',')}`;
}

export function peerChanges(current: readonly VtepPeer[], next: readonly VxlanPeerSettings[]): PeerChanges {
  const wanted = new Map<string, VxlanPeerSettings>();
  for (const p of next) wanted.set(key(p.remote, p.vtepMac as Uint8Array, p.subnets), p);
  const kept = new Set<string>();
  const remove: VtepPeer[] = [];
  for (const peer of current) {
    const k = key(peer.remote, peer.mac, peer.subnets);
    if (wanted.has(k) && !kept.has(k)) kept.add(k);
    else remove.push(peer);
  }
  const add = [...wanted.entries()].filter(([k]) => !kept.has(k)).map(([, p]) => p);
  return { remove, add, unchanged: kept.size };
}
