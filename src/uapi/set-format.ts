/**
 * The one UAPI `set=1` writer: the request wg(8) sends (ipc-uapi.h userspace_set_device),
 * the same lines in the same order, plus the two keys wg never sends and ferry's config
 * sync does (update_only, allowed_ip=-PREFIX). The wg verbs, the wg-quick verbs and the
 * daemon's reload all send their changes through it.
 */
import { formatPrefix } from '../text/prefix.js';
import { formatKeyHex } from '../wireguard/keys.js';
import { formatWgEndpoint } from './endpoint.js';
import type { Device } from './model.js';

/** The whole request, from `set=1` to the empty line that ends it. */
export function formatSet(dev: Device): string {
  const out: string[] = ['set=1'];
  if (dev.privateKey !== undefined) out.push(`private_key=${formatKeyHex(dev.privateKey)}`);
  if (dev.listenPort !== undefined) out.push(`listen_port=${dev.listenPort}`);
  if (dev.fwmark !== undefined) out.push(`fwmark=${dev.fwmark >>> 0}`);
  if (dev.replacePeers) out.push('replace_peers=true');
  for (const peer of dev.peers) {
    out.push(`public_key=${formatKeyHex(peer.publicKey)}`);
    if (peer.remove) {
      out.push('remove=true');
      continue;
    }
    if (peer.updateOnly) out.push('update_only=true');
    if (peer.presharedKey !== undefined) out.push(`preshared_key=${formatKeyHex(peer.presharedKey)}`);
    if (peer.endpoint !== undefined) out.push(`endpoint=${formatWgEndpoint(peer.endpoint)}`);
    if (peer.persistentKeepaliveInterval !== undefined) out.push(`persistent_keepalive_interval=${peer.persistentKeepaliveInterval}`);
    if (peer.replaceAllowedIps) out.push('replace_allowed_ips=true');
    for (const a of peer.allowedIps) out.push(`allowed_ip=${a.remove ? '-' : ''}${formatPrefix(a.prefix)}`);
  }
  return `${out.join('\n')}\n\n`;
}
