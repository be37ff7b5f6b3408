/**
 * `ferry showconf IFNAME`: showconf.c, the running configuration in the format
 * setconf reads, byte-identical to `wg showconf`.
 */
import { formatKeyBase64 } from '../../wireguard/keys.js';
import type { CliIo } from './cli-io.js';
import type { WgDevice } from './device.js';
import { strerror } from './errno.js';
import { formatIp } from '../../text/ip.js';
import { formatSockAddr } from './sockaddr.js';
import { getDevice, IpcError } from './ipc.js';
import { usageLine } from './usage.js';

export function formatShowconf(dev: WgDevice): string {
  let out = '[Interface]\n';
  if (dev.listenPort) out += `ListenPort = ${dev.listenPort}\n`;
  if (dev.fwmark) out += `FwMark = 0x${(dev.fwmark >>> 0).toString(16)}\n`;
  if (dev.privateKey !== null) out += `PrivateKey = ${formatKeyBase64(dev.privateKey)}\n`;
  out += '\n';
  dev.peers.forEach((peer, i) => {
    out += `[Peer]\nPublicKey = ${formatKeyBase64(peer.publicKey)}\n`;
    if (peer.presharedKey !== null) out += `PresharedKey = ${formatKeyBase64(peer.presharedKey)}\n`;
    if (peer.allowedIps.length > 0) out += `AllowedIPs = ${peer.allowedIps.map((a) => `${formatIp(a.family, a.addr)}/${a.cidr}`).join(', ')}\n`;
    if (peer.endpoint !== null) out += `Endpoint = ${formatSockAddr(peer.endpoint)}\n`;
    if (peer.persistentKeepalive) out += `PersistentKeepalive = ${peer.persistentKeepalive}\n`;
    if (i + 1 < dev.peers.length) out += '\n';
  });
  return out;
}

export async function showconfMain(io: CliIo, args: readonly string[]): Promise<number> {
  if (args.length !== 1) {
    io.err(`${usageLine(io.prog, 'showconf')}\n`);
    return 1;
  }
  let dev: WgDevice;
  try {
    dev = await getDevice(io.socketDir, args[0]);
  } catch (err) {
    if (!(err instanceof IpcError)) throw err;
    io.err(`Unable to access interface: ${strerror(err.errno)}\n`);
    return 1;
  }
  io.out(formatShowconf(dev));
  return 0;
}
