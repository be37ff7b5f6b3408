/**
 * The device model wg(8) works with (containers.h: struct wgdevice/wgpeer/wgallowedip).
 * One shape serves both directions, as in wg: what `get` reads back, and what `set`,
 * `setconf` and `syncconf` send. A null field is a flag that is not set
 * (WGDEVICE_HAS_LISTEN_PORT and friends), so "set the port to 0" and "leave the port
 * alone" stay distinct.
 */
import type { SockAddr } from './sockaddr.js';

export interface AllowedIp {
  family: 4 | 6;
  /** 4 or 16 bytes as written (wg does not mask host bits; the daemon does). */
  addr: Uint8Array;
  cidr: number;
}

export interface WgPeer {
  publicKey: Uint8Array;
  /** WGPEER_HAS_PRESHARED_KEY; an all-zero key removes it. */
  presharedKey: Uint8Array | null;
  endpoint: SockAddr | null;
  /** WGPEER_HAS_PERSISTENT_KEEPALIVE_INTERVAL; 0 turns it off. */
  persistentKeepalive: number | null;
  /** WGPEER_REMOVE_ME. */
  remove: boolean;
  /** WGPEER_REPLACE_ALLOWEDIPS. */
  replaceAllowedIps: boolean;
  allowedIps: AllowedIp[];
  /** Read back from the daemon only. */
  lastHandshakeSec: bigint;
  lastHandshakeNsec: bigint;
  rxBytes: bigint;
  txBytes: bigint;
}

export interface WgDevice {
  /** As wg keeps it: at most IFNAMSIZ - 1 = 15 bytes. */
  name: string;
  /** WGDEVICE_HAS_PRIVATE_KEY; an all-zero key removes it. */
  privateKey: Uint8Array | null;
  /** Derived from the private key when read back. */
  publicKey: Uint8Array | null;
  listenPort: number | null;
  fwmark: number | null;
  /** WGDEVICE_REPLACE_PEERS. */
  replacePeers: boolean;
  peers: WgPeer[];
}

const IFNAMSIZ = 16;

export function deviceName(name: string): string {
  return name.slice(0, IFNAMSIZ - 1);
}

export function newDevice(name = ''): WgDevice {
  return { name: deviceName(name), privateKey: null, publicKey: null, listenPort: null, fwmark: null, replacePeers: false, peers: [] };
}

export function newPeer(publicKey: Uint8Array = new Uint8Array(32)): WgPeer {
  return {
    publicKey,
    presharedKey: null,
    endpoint: null,
    persistentKeepalive: null,
    remove: false,
    replaceAllowedIps: false,
    allowedIps: [],
    lastHandshakeSec: 0n,
    lastHandshakeNsec: 0n,
    rxBytes: 0n,
    txBytes: 0n,
  };
}

/** memcmp of two keys, as wg sorts peers in syncconf. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}
