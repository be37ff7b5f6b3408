/**
 * Command line shared by the io benchmark's two forwarders (native and node:dgram):
 *   --role a   read TUN, send each packet over UDP to --peer:--peer-port
 *   --role b   receive UDP on --local:--port, write each datagram into the TUN
 * Both get the same socket buffer sizes, so only the I/O style differs.
 */
import { parseArgs } from './control.js';

/** SO_RCVBUF / SO_SNDBUF requested by both forwarders (the kernel doubles it). */
export const UNDERLAY_BUFFER = 4 << 20;

export interface ForwarderOptions {
  role: 'a' | 'b';
  tun: string;
  local: string;
  port: number;
  peer: string;
  peerPort: number;
  /** Packets per batch (native: per read and send; dgram: TUN reads only). */
  batch: number;
  /** dgram only: connect() the socket to the peer and send without an address. */
  connected: boolean;
  /** native only: UDP GSO on send and GRO on receive (default on). */
  offload: boolean;
  /**
   * native only: after draining, wait up to this many ms in the readiness callback for
   * more traffic instead of returning to the event loop (0: off, the default).
   */
  lingerMs: number;
}

export function forwarderOptions(argv: string[]): ForwarderOptions {
  const a = parseArgs(argv, ['role', 'tun', 'local', 'port', 'peer', 'peer-port', 'batch']);
  if (a.role !== 'a' && a.role !== 'b') throw new Error(`--role must be a or b, got ${a.role}`);
  return {
    role: a.role,
    tun: a.tun,
    local: a.local,
    port: Number(a.port),
    peer: a.peer,
    peerPort: Number(a['peer-port']),
    batch: Number(a.batch),
    connected: a.connected === '1',
    offload: a.offload !== '0',
    lingerMs: Number(a['linger-ms'] ?? 0),
  };
}
