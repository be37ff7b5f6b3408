/**
 * `wg showconf` output, byte for byte (wireguard-tools showconf.c), and the file
 * `wg-quick save` / SaveConfig writes from it (linux.bash save_config). The one printer
 * of a device as a config file: `ferry showconf` (the wg verb) and `ferry save` both
 * use it.
 */
import { formatWgEndpoint } from '../uapi/endpoint.js';
import { allowedIpsOf, newDevice, newPeer, prefixesOf, type Device } from '../uapi/model.js';
import { formatKeyBase64, isZeroKey } from '../wireguard/keys.js';
import type { ExtensionSection, InterfaceConfig, WgQuickConfig } from './model.js';
import { ConfigError } from './issues.js';
import { formatPrefix } from '../text/prefix.js';

/**
 * What `wg showconf IFNAME` prints for a device state: [Interface] with ListenPort and
 * FwMark (hex) when nonzero and PrivateKey when set, an empty line, then the peers,
 * separated by empty lines, each with only the keys that have a value.
 */
export function serializeConfig(dev: Device): string {
  let s = '[Interface]\n';
  if (dev.listenPort) s += `ListenPort = ${dev.listenPort}\n`;
  if (dev.fwmark) s += `FwMark = 0x${(dev.fwmark >>> 0).toString(16)}\n`;
  if (dev.privateKey !== undefined) s += `PrivateKey = ${formatKeyBase64(dev.privateKey)}\n`;
  s += '\n';
  dev.peers.forEach((p, i) => {
    s += `[Peer]\nPublicKey = ${formatKeyBase64(p.publicKey)}\n`;
    if (p.presharedKey !== undefined && !isZeroKey(p.presharedKey)) s += `PresharedKey = ${formatKeyBase64(p.presharedKey)}\n`;
    if (p.allowedIps.length > 0) s += `AllowedIPs = ${prefixesOf(p).map(formatPrefix).join(', ')}\n`;
    if (p.endpoint !== undefined) s += `Endpoint = ${formatWgEndpoint(p.endpoint)}\n`;
    if (p.persistentKeepaliveInterval) s += `PersistentKeepalive = ${p.persistentKeepaliveInterval}\n`;
    if (i < dev.peers.length - 1) s += '\n';
  });
  return s;
}

/** The device a config describes, as setconf would leave it (no traffic counters). Endpoints must be resolved. */
export function stateFromConfig(config: WgQuickConfig): Device {
  const i = config.interface;
  const dev = newDevice();
  if (i.privateKey !== null && !isZeroKey(i.privateKey)) dev.privateKey = i.privateKey;
  dev.listenPort = i.listenPort ?? 0;
  dev.fwmark = i.fwmark ?? 0;
  dev.peers = config.peers.map((p) => {
    if (p.endpoint !== null && p.endpoint.address === null) {
      throw new ConfigError([{ file: config.source.file, line: p.lines.Endpoint ?? p.line, message: 'Endpoint is not resolved yet: expected resolveEndpoints() first' }]);
    }
    const peer = newPeer(p.publicKey);
    if (p.presharedKey !== null) peer.presharedKey = p.presharedKey;
    if (p.endpoint?.address) peer.endpoint = p.endpoint.address;
    peer.persistentKeepaliveInterval = p.persistentKeepalive ?? 0;
    peer.allowedIps = allowedIpsOf(p.allowedIps);
    return peer;
  });
  return dev;
}

/** The wg-quick part of [Interface] that `save` writes back (live values are the caller's to fill in). */
export type SavedInterface = Pick<InterfaceConfig, 'addresses' | 'dns' | 'dnsSearch' | 'mtu' | 'table' | 'saveConfig' | 'offload' | 'preUp' | 'postUp' | 'preDown' | 'postDown'>;

/**
 * The file `wg-quick save` writes: showconf with its "[Interface]\n" replaced by that line
 * plus Address, DNS, MTU, Table, SaveConfig, FerryOffload and the hooks, trailing newlines cut (the
 * shell's `$(…)`) and one newline added (`echo`). Two ferry differences: DNS search
 * domains are kept (wg-quick loses them), and [Ferry…] sections are written back after
 * the peers, so saving never drops ferry's own configuration.
 */
export function formatSavedConfig(state: Device, quick: SavedInterface, extensions: ExtensionSection[] = []): string {
  let head = '[Interface]\n';
  for (const a of quick.addresses) head += `Address = ${formatPrefix(a)}\n`;
  for (const d of [...quick.dns, ...quick.dnsSearch]) head += `DNS = ${d}\n`;
  if (quick.mtu !== null) head += `MTU = ${quick.mtu}\n`;
  if (quick.table !== null) head += `Table = ${quick.table}\n`;
  if (quick.saveConfig) head += 'SaveConfig = true\n';
  if (quick.offload !== null) head += `FerryOffload = ${quick.offload ? 'on' : 'off'}\n`;
  for (const [key, list] of [['PreUp', quick.preUp], ['PostUp', quick.postUp], ['PreDown', quick.preDown], ['PostDown', quick.postDown]] as const) {
    for (const cmd of list) head += `${key} = ${cmd}\n`;
  }
  let text = serializeConfig(state).replace('[Interface]\n', head).replace(/\n+$/, '');
  for (const ext of extensions) {
    text += `\n\n[${ext.name}]`;
    for (const e of ext.entries) text += `\n${e.key} = ${e.value}`;
  }
  return `${text}\n`;
}
