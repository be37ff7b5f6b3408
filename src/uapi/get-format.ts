/**
 * The daemon's answer to `get=1`, in wireguard-go's order (device keys, then each peer's),
 * without the final errno line the server adds. An absent key or preshared key is sent
 * as wireguard-go sends it: no private_key line, a preshared_key of zeros.
 */
import { formatEndpoint } from '../text/endpoint.js';
import { formatPrefix } from '../text/prefix.js';
import { formatKeyHex } from '../wireguard/keys.js';
import type { Device } from './model.js';

const ZERO_KEY_HEX = '0'.repeat(64);

export function formatGet(dev: Device): string {
  const out: string[] = [];
  if (dev.privateKey !== undefined) out.push(`private_key=${formatKeyHex(dev.privateKey)}`);
  if (dev.listenPort) out.push(`listen_port=${dev.listenPort}`);
  if (dev.fwmark) out.push(`fwmark=${dev.fwmark}`);
  for (const p of dev.peers) {
    out.push(`public_key=${formatKeyHex(p.publicKey)}`);
    out.push(`preshared_key=${p.presharedKey !== undefined ? formatKeyHex(p.presharedKey) : ZERO_KEY_HEX}`);
    out.push('protocol_version=1');
    if (p.endpoint !== undefined) out.push(`endpoint=${formatEndpoint(p.endpoint)}`);
    out.push(`last_handshake_time_sec=${p.lastHandshakeSec ?? 0n}`);
    out.push(`last_handshake_time_nsec=${p.lastHandshakeNsec ?? 0n}`);
    out.push(`tx_bytes=${p.txBytes ?? 0n}`);
    out.push(`rx_bytes=${p.rxBytes ?? 0n}`);
    out.push(`persistent_keepalive_interval=${p.persistentKeepaliveInterval ?? 0}`);
    for (const a of p.allowedIps) out.push(`allowed_ip=${formatPrefix(a.prefix)}`);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** A wall-clock time in milliseconds as the (sec, nsec) pair a get answer carries. */
export function handshakeTime(ms: number): { sec: bigint; nsec: bigint } {
  const sec = Math.floor(ms / 1000);
  return { sec: BigInt(sec), nsec: BigInt(Math.round((ms - sec * 1000) * 1e6)) };
}
