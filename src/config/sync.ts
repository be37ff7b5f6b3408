/**
 * The syncconf difference (wireguard-tools setconf.c sync_conf): the UAPI set that
 * makes a running device match a config file without replace_peers, so the peers that
 * stay keep their sessions. ferryd's SIGHUP reload applies it.
 *
 * Like current wg syncconf:
 * - peers the device has and the file does not are removed (first, in descending key
 *   order, as wg prepends them while walking a sorted list);
 * - the file's peers are added or updated; a preshared key or keepalive the file leaves
 *   out is cleared, and each peer's allowed IPs are replaced by the file's;
 * - the private key is the file's (none when the file has none).
 * Where ferry differs, so that a reload disturbs nothing it does not have to:
 * - only what differs is sent: a peer whose settings all match is left out, and a
 *   changed peer carries only its changed settings (allowed IPs compared as sets, host
 *   bits masked);
 * - ListenPort and FwMark absent from the file keep the running values (wg would send 0:
 *   a new random port, and no fwmark — which breaks the full tunnel `ferry up` set up);
 * - an Endpoint absent from the file keeps the running endpoint (wg cannot clear one either).
 */
import { formatEndpoint } from '../text/endpoint.js';
import { allowedIpsOf, compareKeys, newDevice, newPeer, prefixesOf, type Device, type Peer } from '../uapi/model.js';
import { KEY_SIZE } from '../wireguard/constants.js';
import { formatKeyHex } from '../wireguard/keys.js';
import { describeEndpoint } from './endpoint-spec.js';
import { ConfigError } from './issues.js';
import type { PeerConfig, WgQuickConfig } from './model.js';
import { formatPrefix, maskPrefix, type IpPrefix } from '../text/prefix.js';

const ZERO_KEY = new Uint8Array(KEY_SIZE);

function sameKey(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  const x = a ?? ZERO_KEY;
  const y = b ?? ZERO_KEY;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The prefix with its host bits cleared, as text: the device stores it so. */
function maskedText(p: IpPrefix): string {
  return formatPrefix(maskPrefix(p));
}

function sameAllowedIps(file: readonly IpPrefix[], running: readonly IpPrefix[]): boolean {
  const a = new Set(file.map(maskedText));
  const b = new Set(running.map(maskedText));
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function addedPeer(p: PeerConfig): Peer {
  const change = newPeer(p.publicKey);
  change.replaceAllowedIps = true;
  change.allowedIps = allowedIpsOf(p.allowedIps);
  if (p.presharedKey !== null) change.presharedKey = p.presharedKey;
  if (p.endpoint?.address) change.endpoint = p.endpoint.address;
  if (p.persistentKeepalive !== null) change.persistentKeepaliveInterval = p.persistentKeepalive;
  return change;
}

/** Only what differs between a file's peer and the running one; null when nothing does. */
function updatePeer(p: PeerConfig, cur: Peer): Peer | null {
  const change = newPeer(p.publicKey);
  let changed = false;
  if (!sameKey(p.presharedKey, cur.presharedKey)) {
    change.presharedKey = p.presharedKey ?? new Uint8Array(KEY_SIZE);
    changed = true;
  }
  if (p.endpoint?.address && formatEndpoint(p.endpoint.address) !== (cur.endpoint ? formatEndpoint(cur.endpoint) : null)) {
    change.endpoint = p.endpoint.address;
    changed = true;
  }
  const keepalive = p.persistentKeepalive ?? 0;
  if (keepalive !== (cur.persistentKeepaliveInterval ?? 0)) {
    change.persistentKeepaliveInterval = keepalive;
    changed = true;
  }
  if (!sameAllowedIps(p.allowedIps, prefixesOf(cur))) {
    change.replaceAllowedIps = true;
    change.allowedIps = allowedIpsOf(p.allowedIps);
    changed = true;
  }
  return changed ? change : null;
}

/** The change that syncs `current` to `config`. Endpoints must be resolved (resolveEndpoints()). */
export function syncChange(config: WgQuickConfig, current: Device): Device {
  const unresolved = config.peers.filter((p) => p.endpoint !== null && p.endpoint.address === null);
  if (unresolved.length > 0) {
    throw new ConfigError(
      unresolved.map((p) => ({ file: config.source.file, line: p.lines.Endpoint ?? p.line, message: `Endpoint "${describeEndpoint(p.endpoint!)}" is not resolved yet: expected resolveEndpoints() before applying` })),
    );
  }
  const i = config.interface;
  const change = newDevice();
  if (!sameKey(i.privateKey, current.privateKey)) change.privateKey = i.privateKey ?? new Uint8Array(KEY_SIZE);
  if (i.listenPort !== null && i.listenPort !== (current.listenPort ?? 0)) change.listenPort = i.listenPort;
  if (i.fwmark !== null && i.fwmark !== (current.fwmark ?? 0)) change.fwmark = i.fwmark;

  const inFile = new Set(config.peers.map((p) => formatKeyHex(p.publicKey)));
  const gone = current.peers.filter((p) => !inFile.has(formatKeyHex(p.publicKey))).sort((a, b) => compareKeys(b.publicKey, a.publicKey));
  for (const p of gone) change.peers.push({ ...newPeer(p.publicKey), remove: true });

  const running = new Map(current.peers.map((p) => [formatKeyHex(p.publicKey), p]));
  for (const p of config.peers) {
    const cur = running.get(formatKeyHex(p.publicKey));
    const peer = cur === undefined ? addedPeer(p) : updatePeer(p, cur);
    if (peer !== null) change.peers.push(peer);
  }
  return change;
}

/** True when applying the change would do nothing. */
export function isEmptyChange(change: Device): boolean {
  return change.privateKey === undefined && change.listenPort === undefined && change.fwmark === undefined && !change.replacePeers && change.peers.length === 0;
}
