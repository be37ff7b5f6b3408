/**
 * A ConfigReader for wg-quick files, through src/config/ (parseConfig, resolveEndpoints,
 * toUapiSet): it accepts what wg-quick accepts (Address, DNS, hooks, PrivateKeyFile,
 * ferry's sections — all ignored here) and reports every problem with file:line.
 *
 * The wg verbs (`ferry setconf` …) keep wg's own reader (conf.ts), so they accept and
 * reject exactly what wg does; this one is for the wg-quick verbs:
 * `setconfMain(io, 'syncconf', [ifname, file], quickConfigReader)`.
 */
import type { DeviceChange } from '../../control/uapi-protocol.js';
import { formatIssue, isConfigError } from '../../config/issues.js';
import { parseConfig } from '../../config/parse.js';
import { resolveEndpoints, retriesFromEnv } from '../../config/resolve.js';
import { toUapiSet } from '../../config/uapi-set.js';
import type { ConfigReader } from './conf.js';
import { newDevice, newPeer, type WgDevice } from './device.js';
import { numericHost } from './resolve.js';

/** The same change in the device model the wg verbs send. */
export function deviceFromChange(change: DeviceChange): WgDevice {
  const dev = newDevice();
  dev.privateKey = change.privateKey ?? null;
  dev.listenPort = change.listenPort ?? null;
  dev.fwmark = change.fwmark ?? null;
  dev.replacePeers = change.replacePeers;
  for (const pc of change.peers) {
    const peer = newPeer(pc.publicKey);
    peer.remove = pc.remove;
    peer.presharedKey = pc.presharedKey ?? null;
    peer.persistentKeepalive = pc.persistentKeepaliveInterval ?? null;
    peer.replaceAllowedIps = pc.replaceAllowedIps;
    if (pc.endpoint !== undefined) {
      const host = numericHost(pc.endpoint.address);
      if (host === null) throw new RangeError(`endpoint ${pc.endpoint.address} is not numeric`);
      peer.endpoint = { ...host, port: pc.endpoint.port, scopeId: pc.endpoint.scopeId ?? host.scopeId };
    }
    for (const a of pc.allowedIps) peer.allowedIps.push({ family: a.prefix.family, addr: a.prefix.bytes, cidr: a.prefix.cidr });
    dev.peers.push(peer);
  }
  return dev;
}

export const quickConfigReader: ConfigReader = async (io, text, file, append) => {
  try {
    const config = await resolveEndpoints(parseConfig(text, { file }), { retries: retriesFromEnv(io.env) });
    for (const w of config.warnings) io.err(`${formatIssue(w)}\n`);
    return deviceFromChange(toUapiSet(config, { replacePeers: !append }));
  } catch (err) {
    if (!isConfigError(err)) throw err;
    io.err(`${err.message}\n`);
    return null;
  }
};
