/**
 * `wg showconf` output, byte for byte (wireguard-tools showconf.c), and the file
 * `wg-quick save` / SaveConfig writes from it (linux.bash save_config).
 */
import type { DeviceState } from '../control/uapi-protocol.js';
import { formatEndpoint } from '../text/endpoint.js';
import { formatKeyBase64, isZeroKey } from '../wireguard/keys.js';
import type { ExtensionSection, InterfaceConfig, WgQuickConfig } from './model.js';
import { ConfigError } from './issues.js';
import { formatIp } from '../text/ip.js';
import { formatPrefix } from '../text/prefix.js';

/**
 * What `wg showconf IFNAME` prints for a device state: [Interface] with ListenPort and
 * FwMark (hex) when nonzero and PrivateKey when set, an empty line, then the peers,
 * separated by empty lines, each with only the keys that have a value.
 */
export function serializeConfig(state: DeviceState): string {
  let s = '[Interface]\n';
  if (state.listenPort) s += `ListenPort = ${state.listenPort}\n`;
  if (state.fwmark) s += `FwMark = 0x${(state.fwmark >>> 0).toString(16)}\n`;
  if (state.privateKey !== null) s += `PrivateKey = ${formatKeyBase64(state.privateKey)}\n`;
  s += '\n';
  state.peers.forEach((p, i) => {
    s += `[Peer]\nPublicKey = ${formatKeyBase64(p.publicKey)}\n`;
    if (p.presharedKey !== null && !isZeroKey(p.presharedKey)) s += `PresharedKey = ${formatKeyBase64(p.presharedKey)}\n`;
    if (p.allowedIps.length > 0) s += `AllowedIPs = ${p.allowedIps.map(formatPrefix).join(', ')}\n`;
    if (p.endpoint !== null) s += `Endpoint = ${p.endpoint}\n`;
    if (p.persistentKeepaliveInterval) s += `PersistentKeepalive = ${p.persistentKeepaliveInterval}\n`;
    if (i < state.peers.length - 1) s += '\n';
  });
  return s;
}

/** The device a config describes, as setconf would leave it (no traffic counters). Endpoints must be resolved. */
export function stateFromConfig(config: WgQuickConfig): DeviceState {
  const i = config.interface;
  return {
    privateKey: i.privateKey !== null && !isZeroKey(i.privateKey) ? i.privateKey : null,
    listenPort: i.listenPort ?? 0,
    fwmark: i.fwmark ?? 0,
    peers: config.peers.map((p) => {
      if (p.endpoint !== null && p.endpoint.address === null) {
        throw new ConfigError([{ file: config.source.file, line: p.lines.Endpoint ?? p.line, message: 'Endpoint is not resolved yet: expected resolveEndpoints() first' }]);
      }
      return {
        publicKey: p.publicKey,
        presharedKey: p.presharedKey,
        endpoint: p.endpoint?.address ? formatEndpoint(p.endpoint.address) : null,
        lastHandshakeTimeMs: 0,
        txBytes: 0,
        rxBytes: 0,
        persistentKeepaliveInterval: p.persistentKeepalive ?? 0,
        allowedIps: p.allowedIps,
      };
    }),
  };
}

/** The wg-quick part of [Interface] that `save` writes back (live values are the caller's to fill in). */
export type SavedInterface = Pick<InterfaceConfig, 'addresses' | 'dns' | 'dnsSearch' | 'mtu' | 'table' | 'saveConfig' | 'preUp' | 'postUp' | 'preDown' | 'postDown'>;

/**
 * The file `wg-quick save` writes: showconf with its "[Interface]\n" replaced by that line
 * plus Address, DNS, MTU, Table, SaveConfig and the hooks, trailing newlines cut (the
 * shell's `$(…)`) and one newline added (`echo`). Two ferry differences: DNS search
 * domains are kept (wg-quick loses them), and [Ferry…] sections are written back after
 * the peers, so saving never drops ferry's own configuration.
 */
export function formatSavedConfig(state: DeviceState, quick: SavedInterface, extensions: ExtensionSection[] = []): string {
  let head = '[Interface]\n';
  for (const a of quick.addresses) head += `Address = ${formatIp(a.family, a.bytes)}/${a.cidr}\n`;
  for (const d of [...quick.dns, ...quick.dnsSearch]) head += `DNS = ${d}\n`;
  if (quick.mtu !== null) head += `MTU = ${quick.mtu}\n`;
  if (quick.table !== null) head += `Table = ${quick.table}\n`;
  if (quick.saveConfig) head += 'SaveConfig = true\n';
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
