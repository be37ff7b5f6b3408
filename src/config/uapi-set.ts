/**
 * A config as the UAPI set operation wg sends for it (wireguard-tools config.c and
 * ipc-uapi.h):
 * - `wg setconf` (replacePeers): private_key, listen_port and fwmark are always sent, the
 *   defaults (zero key, 0, 0) when the file omits them, then replace_peers=true;
 * - `wg addconf`: only what the file gives;
 * - every [Peer] gets replace_allowed_ips=true, with or without AllowedIPs.
 */
import type { DeviceChange, PeerChange } from '../control/uapi-protocol.js';
import { formatEndpoint } from '../text/endpoint.js';
import { KEY_SIZE } from '../wireguard/constants.js';
import { formatKeyHex } from '../wireguard/keys.js';
import { describeEndpoint } from './endpoint-spec.js';
import { ConfigError } from './issues.js';
import type { WgQuickConfig } from './model.js';
import { formatPrefix } from '../text/prefix.js';

export interface UapiSetOptions {
  /** true for setconf (the file is the whole device), false for addconf. */
  replacePeers: boolean;
}

/** The DeviceChange for a parsed config whose endpoints are numeric (resolveEndpoints() first). */
export function toUapiSet(config: WgQuickConfig, options: UapiSetOptions): DeviceChange {
  const i = config.interface;
  const change: DeviceChange = { replacePeers: options.replacePeers, peers: [] };
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
    const peer: PeerChange = {
      publicKey: p.publicKey,
      remove: false,
      updateOnly: false,
      replaceAllowedIps: true,
      allowedIps: p.allowedIps.map((prefix) => ({ prefix, remove: false })),
    };
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

/** The lines of a set operation in wg's order (without "set=1" and the final empty line). */
export function formatUapiSet(change: DeviceChange): string[] {
  const out: string[] = [];
  if (change.privateKey !== undefined) out.push(`private_key=${formatKeyHex(change.privateKey)}`);
  if (change.listenPort !== undefined) out.push(`listen_port=${change.listenPort}`);
  if (change.fwmark !== undefined) out.push(`fwmark=${change.fwmark}`);
  if (change.replacePeers) out.push('replace_peers=true');
  for (const p of change.peers) {
    out.push(`public_key=${formatKeyHex(p.publicKey)}`);
    if (p.remove) {
      out.push('remove=true');
      continue;
    }
    if (p.updateOnly) out.push('update_only=true');
    if (p.presharedKey !== undefined) out.push(`preshared_key=${formatKeyHex(p.presharedKey)}`);
    if (p.endpoint !== undefined) out.push(`endpoint=${formatEndpoint(p.endpoint)}`);
    if (p.persistentKeepaliveInterval !== undefined) out.push(`persistent_keepalive_interval=${p.persistentKeepaliveInterval}`);
    if (p.replaceAllowedIps) out.push('replace_allowed_ips=true');
    for (const a of p.allowedIps) out.push(`allowed_ip=${a.remove ? '-' : ''}${formatPrefix(a.prefix)}`);
  }
  return out;
}
