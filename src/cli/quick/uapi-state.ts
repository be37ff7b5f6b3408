/**
 * A UAPI `get` answer read back into a DeviceState, for the verbs that need the running
 * device (routes from its allowed IPs, MTU from its endpoints, save). Lenient like wg:
 * keys it does not know are skipped, so a newer daemon's extra fields do not break it.
 */
import type { DeviceState, PeerState } from '../../control/uapi-protocol.js';
import { isZeroKey, tryParseKeyHex } from '../../wireguard/keys.js';
import { parsePrefix } from '../../text/prefix.js';

function count(value: string): number {
  return /^\d+$/.test(value) ? Number(value) : 0;
}

export function parseGetAnswer(lines: readonly string[]): DeviceState {
  const state: DeviceState = { privateKey: null, listenPort: 0, fwmark: 0, peers: [] };
  let peer: PeerState | null = null;
  let sec = 0;
  let nsec = 0;
  const finishPeer = () => {
    if (peer !== null) peer.lastHandshakeTimeMs = sec * 1000 + Math.floor(nsec / 1e6);
    sec = 0;
    nsec = 0;
  };
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'public_key') {
      finishPeer();
      const publicKey = tryParseKeyHex(value);
      if (publicKey === null) {
        peer = null;
        continue;
      }
      peer = { publicKey, presharedKey: null, endpoint: null, lastHandshakeTimeMs: 0, txBytes: 0, rxBytes: 0, persistentKeepaliveInterval: 0, allowedIps: [] };
      state.peers.push(peer);
      continue;
    }
    if (peer === null) {
      if (key === 'private_key') {
        const k = tryParseKeyHex(value);
        state.privateKey = k !== null && !isZeroKey(k) ? k : null;
      } else if (key === 'listen_port') state.listenPort = count(value);
      else if (key === 'fwmark') state.fwmark = count(value);
      continue;
    }
    switch (key) {
      case 'preshared_key': {
        const k = tryParseKeyHex(value);
        peer.presharedKey = k !== null && !isZeroKey(k) ? k : null;
        break;
      }
      case 'endpoint':
        peer.endpoint = value;
        break;
      case 'last_handshake_time_sec':
        sec = count(value);
        break;
      case 'last_handshake_time_nsec':
        nsec = count(value);
        break;
      case 'tx_bytes':
        peer.txBytes = count(value);
        break;
      case 'rx_bytes':
        peer.rxBytes = count(value);
        break;
      case 'persistent_keepalive_interval':
        peer.persistentKeepaliveInterval = count(value);
        break;
      case 'allowed_ip':
        try {
          peer.allowedIps.push(parsePrefix(value));
        } catch {
          // not an address wg would print; skip it as wg skips what it cannot parse
        }
        break;
      default:
        break;
    }
  }
  finishPeer();
  return state;
}
