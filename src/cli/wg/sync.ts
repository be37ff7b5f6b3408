/**
 * `syncconf` (setconf.c sync_conf in wireguard-tools 1.0.20210914): instead of replacing
 * every peer, which drops their sessions, remove only the running peers that the file
 * does not name and update the others in place. Peers that stay keep their handshake,
 * keys and counters.
 *
 * As in wg, when the file or the interface has no peers, nothing changes: the request
 * still replaces all peers (which then costs nothing). Removal entries go first, in
 * descending public-key order (wg prepends them while walking a sorted list).
 * 1.0.20210914 does not clear a preshared key or keepalive the file leaves out.
 */
import { compareKeys, newPeer, type Device, type Peer } from '../../uapi/model.js';

export function syncPeers(file: Device, runtime: Device): void {
  if (file.peers.length === 0 || runtime.peers.length === 0) return;
  file.replacePeers = false;
  const all: { peer: Peer; fromFile: boolean }[] = [
    ...file.peers.map((peer) => ({ peer, fromFile: true })),
    ...runtime.peers.map((peer) => ({ peer, fromFile: false })),
  ];
  // glibc's qsort is a stable merge sort; Array#sort is stable too.
  all.sort((a, b) => compareKeys(a.peer.publicKey, b.peer.publicKey) || Number(a.fromFile) - Number(b.fromFile));
  for (let i = 0; i < all.length; i++) {
    if (all[i].fromFile) continue;
    const next = all[i + 1];
    if (next === undefined || !next.fromFile || compareKeys(all[i].peer.publicKey, next.peer.publicKey) !== 0) {
      const removal = newPeer(new Uint8Array(all[i].peer.publicKey));
      removal.remove = true;
      file.peers.unshift(removal);
    }
  }
}
