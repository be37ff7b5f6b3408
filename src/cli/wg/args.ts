/**
 * The argument grammar of `wg set` (config.c config_read_cmd), word for word:
 *
 *   [listen-port P] [fwmark M] [private-key FILE]
 *   [peer KEY [remove] [preshared-key FILE] [endpoint HOST:PORT]
 *             [persistent-keepalive N|off] [allowed-ips IP/CIDR[,IP/CIDR...]] ]...
 *
 * Device options are accepted only before the first `peer`; anything out of place is
 * "Invalid argument: WORD". Values are parsed (and endpoints resolved) in order, so the
 * first bad word decides the message, as in wg.
 */
import type { CliIo } from './cli-io.js';
import { newDevice, newPeer, type Device, type Peer } from '../../uapi/model.js';
import { readKeyFile } from './keyfile.js';
import { parseAllowedIps, parseEndpoint, parseFwmark, parseKey, parsePersistentKeepalive, parsePort } from './values.js';

/** strip_spaces(): allowed-ips "10.0.0.0/8, fd00::/64" is one word with spaces. */
function stripSpaces(s: string): string {
  return s.replace(/[ \t\n\v\f\r]/g, '');
}

/** Parses the words after `set IFNAME`; null after printing the reason on stderr. */
export async function readSetArgs(io: CliIo, args: readonly string[]): Promise<Device | null> {
  const dev = newDevice();
  let peer: Peer | null = null;
  let i = 0;
  while (i < args.length) {
    const word = args[i];
    const value = args[i + 1];
    const hasValue = i + 1 < args.length;
    if (word === 'listen-port' && hasValue && peer === null) {
      const port = parsePort(io, value);
      if (port === null) return null;
      dev.listenPort = port;
      i += 2;
    } else if (word === 'fwmark' && hasValue && peer === null) {
      const mark = parseFwmark(io, value);
      if (mark === null) return null;
      dev.fwmark = mark;
      i += 2;
    } else if (word === 'private-key' && hasValue && peer === null) {
      const key = readKeyFile(io, value);
      if (key === null) return null;
      dev.privateKey = key;
      i += 2;
    } else if (word === 'peer' && hasValue) {
      const key = parseKey(io, value);
      if (key === null) return null;
      peer = newPeer(key);
      dev.peers.push(peer);
      i += 2;
    } else if (word === 'remove' && peer !== null) {
      peer.remove = true;
      i += 1;
    } else if (word === 'endpoint' && hasValue && peer !== null) {
      const ep = await parseEndpoint(io, value);
      if (ep === null) return null;
      peer.endpoint = ep;
      i += 2;
    } else if (word === 'allowed-ips' && hasValue && peer !== null) {
      if (!parseAllowedIps(io, peer, stripSpaces(value))) return null;
      i += 2;
    } else if (word === 'persistent-keepalive' && hasValue && peer !== null) {
      const interval = parsePersistentKeepalive(io, value);
      if (interval === null) return null;
      peer.persistentKeepaliveInterval = interval;
      i += 2;
    } else if (word === 'preshared-key' && hasValue && peer !== null) {
      const key = readKeyFile(io, value);
      if (key === null) return null;
      peer.presharedKey = key;
      i += 2;
    } else {
      io.err(`Invalid argument: ${word}\n`);
      return null;
    }
  }
  return dev;
}
