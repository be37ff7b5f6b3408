/**
 * What a WireGuard interface tells its log about peers: a session made (info), a rekey
 * (info: it is the heartbeat of a working tunnel, every two minutes per active peer),
 * roaming to a new endpoint (info), a handshake given up (info), keys zeroed (debug).
 * Each peer gets one child logger, made on its first line and kept with the peer, so a
 * busy interface does not build a logger per event. Peers are named by a public-key
 * fingerprint; no key material reaches a log line.
 */
import { decodeEndpoint, formatEndpoint } from '../io/endpoint.js';
import type { WgDevice } from '../wireguard/device.js';
import type { Peer } from '../wireguard/peer.js';
import { keyFingerprint, type Logger } from './logger.js';

export function logPeerEvents(device: WgDevice, logger: Logger): void {
  const loggers = new WeakMap<Peer, Logger>();
  const withSession = new WeakSet<Peer>();
  const log = (peer: Peer): Logger => {
    let l = loggers.get(peer);
    if (l === undefined) {
      l = logger.child({ peer: keyFingerprint(peer.publicKey) });
      loggers.set(peer, l);
    }
    return l;
  };
  const endpoint = (peer: Peer): string | null => {
    const ep = decodeEndpoint(peer.endpoint);
    return ep === null ? null : formatEndpoint(ep);
  };
  device.on('handshake', (peer: Peer, initiator: boolean) => {
    const rekey = withSession.has(peer);
    withSession.add(peer);
    log(peer).info({ initiator, endpoint: endpoint(peer) }, rekey ? 'handshake complete: rekeyed' : 'handshake complete: session up');
  });
  device.on('endpoint', (peer: Peer) => log(peer).info({ endpoint: endpoint(peer) }, 'peer roamed to a new endpoint'));
  device.on('keysZeroed', (peer: Peer) => {
    withSession.delete(peer);
    log(peer).debug('session keys zeroed (no traffic for 9 minutes, or the peer was removed)');
  });
  device.on('handshakeGiveUp', (peer: Peer) => log(peer).info('handshake did not complete after 90 s; giving up until there is traffic'));
}
