/**
 * Which peer an inbound datagram belongs to, before its plane opens it. WireGuard: transport
 * messages, handshake responses and cookie replies name our receiver index, and the
 * index table says whose it is. An initiation hides its sender (the static key is
 * encrypted): null. VXLAN: the inner frame's source MAC names the VTEP. Read-only,
 * allocation-free; only called while a capture runs.
 */
import { COOKIE_REPLY_OFFSET_RECEIVER, MessageType, RESPONSE_OFFSET_RECEIVER } from '../wireguard/constants.js';
import type { IndexTable } from '../wireguard/index-table.js';
import type { IndexEntry } from '../wireguard/keypair.js';
import type { Peer } from '../wireguard/peer.js';

export function wireguardPeerOf(indexTable: IndexTable<IndexEntry>, slab: Uint8Array, off: number, len: number): Peer | null {
  if (len < 16) return null;
  const type = slab[off];
  const at = type === MessageType.Transport ? 4 : type === MessageType.Response ? RESPONSE_OFFSET_RECEIVER : type === MessageType.CookieReply ? COOKIE_REPLY_OFFSET_RECEIVER : -1;
  if (at < 0) return null;
  const p = off + at;
  const index = (slab[p] | (slab[p + 1] << 8) | (slab[p + 2] << 16) | (slab[p + 3] << 24)) >>> 0;
  return indexTable.lookup(index)?.peer ?? null;
}

/** The smallest VXLAN datagram whose inner Ethernet source MAC can be read (8 + 12 bytes). */
const VXLAN_SOURCE_MAC_END = 8 + 12;

/** Which VTEP an inbound VXLAN datagram comes from: its inner frame's source MAC, looked up in the plane's peers. */
export function vxlanPeerOf(peers: { byMacAt(buf: Uint8Array, off: number): object | null }, slab: Uint8Array, off: number, len: number): object | null {
  return len < VXLAN_SOURCE_MAC_END ? null : peers.byMacAt(slab, off + 8 + 6);
}
