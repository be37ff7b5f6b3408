/**
 * The one device model of the control path: what a UAPI `set` carries and what a `get`
 * reads back (wireguard.com/xplatform; wg's containers.h), used by the daemon's UAPI
 * server, the wg verbs, the wg-quick verbs and the config file's apply and sync alike.
 *
 * One shape serves both directions, as in wg. An absent field is a key that is not sent
 * (set: "leave it alone"; get: "none"), so "set the port to 0" and "leave the port alone"
 * stay distinct. In a set, an all-zero private or preshared key removes the key.
 * The fields marked "read back" come only from a `get`.
 */
import type { Endpoint } from '../text/endpoint.js';
import type { IpPrefix } from '../text/prefix.js';

interface AllowedIp {
  /** As written (wg does not mask host bits; the device does). */
  prefix: IpPrefix;
  /** `allowed_ip=-PREFIX` (wireguard-go, ferry): remove this one from the peer. */
  remove: boolean;
}

export interface Peer {
  publicKey: Uint8Array;
  /** `remove=true`: the peer goes; nothing else of it is sent. */
  remove: boolean;
  /** `update_only=true`: change the peer only if it exists. */
  updateOnly: boolean;
  presharedKey?: Uint8Array;
  endpoint?: Endpoint;
  /** Seconds; 0 turns it off. */
  persistentKeepaliveInterval?: number;
  /** `replace_allowed_ips=true`: the list below replaces the peer's. */
  replaceAllowedIps: boolean;
  allowedIps: AllowedIp[];
  /** Read back: wall-clock time of the last handshake (0, 0: none). */
  lastHandshakeSec?: bigint;
  lastHandshakeNsec?: bigint;
  /** Read back. */
  rxBytes?: bigint;
  txBytes?: bigint;
}

export interface Device {
  privateKey?: Uint8Array;
  /** Read back: derived from the private key by the reader. */
  publicKey?: Uint8Array;
  listenPort?: number;
  fwmark?: number;
  /** `replace_peers=true`: the peers below replace the device's. */
  replacePeers: boolean;
  peers: Peer[];
}

export function newDevice(): Device {
  return { replacePeers: false, peers: [] };
}

export function newPeer(publicKey: Uint8Array = new Uint8Array(32)): Peer {
  return { publicKey, remove: false, updateOnly: false, replaceAllowedIps: false, allowedIps: [] };
}

/** The allowed IPs of a peer as prefixes (what a get reads back). */
export function prefixesOf(peer: Peer): IpPrefix[] {
  return peer.allowedIps.map((a) => a.prefix);
}

/** A peer's list of prefixes to add, as config files and `allowed-ips` give them. */
export function allowedIpsOf(prefixes: readonly IpPrefix[]): AllowedIp[] {
  return prefixes.map((prefix) => ({ prefix, remove: false }));
}

/** memcmp of two keys, as wg sorts peers in syncconf. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
