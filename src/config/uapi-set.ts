/**
 * A config as the UAPI set operation wg sends for it (wireguard-tools config.c and
 * ipc-uapi.h):
 * - `wg setconf` (replacePeers): private_key, listen_port and fwmark are always sent, the
 *   defaults (zero key, 0, 0) when the file omits them, then replace_peers=true;
 * - `wg addconf`: only what the file gives;
 * - every [Peer] gets replace_allowed_ips=true, with or without AllowedIPs.
 * The request itself is written by uapi/set-format.ts.
 */
import { allowedIpsOf, newDevice, newPeer, type Device } from '../uapi/model.js';
import { KEY_SIZE } from '../wireguard/constants.js';
import { describeEndpoint } from './endpoint-spec.js';
import { ConfigError } from './issues.js';
import type { WgQuickConfig } from './model.js';

interface UapiSetOptions {
  /** true for setconf (the file is the whole device), false for addconf. */
  replacePeers: boolean;
}

/** The set for a parsed config whose endpoints are numeric (resolveEndpoints() first). */
export function toUapiSet(config: WgQuickConfig, options: UapiSetOptions): Device {
  const i = config.interface;
  const change = newDevice();
  change.replacePeers = options.replacePeers;
  if (options.replacePeers) {
    change.privateKey = i.privateKey ?? new Uint8Array(KEY_SIZE);
    change.listenPort = i.listenPort ?? 0;
    change.fwmark = i.fwmark ?? 0;
  } else {
    if (i.privateKey !== null) change.privateKey = i.privateKey;
    if (i.listenPort !== null) change.listenPort = i.listenPort;
    if (i.fwmark !== null) change.fwmark = i.fwmark;
  }
  const unresolved: { line: number; text: string }[] = [];
  for (const p of config.peers) {
    const peer = newPeer(p.publicKey);
    peer.replaceAllowedIps = true;
    peer.allowedIps = allowedIpsOf(p.allowedIps);
    if (p.presharedKey !== null) peer.presharedKey = p.presharedKey;
    if (p.endpoint !== null) {
      if (p.endpoint.address === null) unresolved.push({ line: p.lines.Endpoint ?? p.line, text: describeEndpoint(p.endpoint) });
      else peer.endpoint = p.endpoint.address;
    }
    if (p.persistentKeepalive !== null) peer.persistentKeepaliveInterval = p.persistentKeepalive;
    change.peers.push(peer);
  }
  if (unresolved.length > 0) {
    throw new ConfigError(
      unresolved.map((u) => ({ file: config.source.file, line: u.line, message: `Endpoint "${u.text}" is not resolved yet: expected resolveEndpoints() before applying` })),
    );
  }
  return change;
}
