/**
 * Connection states and their timeouts, as Linux conntrack keeps them
 * (net/netfilter/nf_conntrack_proto_tcp.c and _udp.c defaults). A state is also the
 * entry's timeout class: entries of one class expire in the order they were last seen.
 */
import { TCPFlag } from '../packet/constants.js';

export const CtState = {
  TcpSynSent: 0,
  TcpSynRecv: 1,
  TcpEstablished: 2,
  TcpFinWait: 3,
  TcpCloseWait: 4,
  TcpLastAck: 5,
  TcpTimeWait: 6,
  TcpClose: 7,
  /** UDP without a reply yet, or replied within its first 2 seconds. */
  Udp: 8,
  /** UDP with traffic both ways, still active after 2 seconds (assured). */
  UdpStream: 9,
} as const;

export const CT_STATE_COUNT = 10;

/** Names as `conntrack -L` prints them. */
export const CT_STATE_NAMES = ['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSE', 'UNREPLIED', 'ASSURED'];

/** The kernel's default timeouts, in seconds, by state. */
export const DEFAULT_CT_TIMEOUTS_S: readonly number[] = [
  120, // SYN_SENT
  60, // SYN_RECV
  432000, // ESTABLISHED (5 days)
  120, // FIN_WAIT
  60, // CLOSE_WAIT
  30, // LAST_ACK
  120, // TIME_WAIT
  10, // CLOSE
  30, // UDP unreplied
  120, // UDP stream
];

/** A UDP flow replied to becomes a stream once it is this old (the kernel's stream_ts). */
export const UDP_STREAM_AFTER_MS = 2000;

/** Not yet established: what a full table evicts first. */
export function evictable(state: number): boolean {
  return state === CtState.TcpSynSent || state === CtState.TcpSynRecv || state === CtState.Udp;
}

export const Dir = {
  Original: 0,
  Reply: 1,
} as const;

const SYN = TCPFlag.SYN;
const ACK = TCPFlag.ACK;
const FIN = TCPFlag.FIN;
const RST = TCPFlag.RST;
const URG = TCPFlag.URG;
const CORE = SYN | ACK | FIN | RST | URG;

/**
 * Flag sets a TCP segment may carry (PSH, ECE, CWR and AE aside), the ones Linux accepts
 * (tcp_valid_flags): SYN, SYN+ACK, RST, RST+ACK, FIN+ACK, ACK, each maybe with URG.
 * Everything else (SYN+FIN, SYN+RST, no flags, FIN without ACK, …) is invalid.
 */
export function tcpFlagsValid(flags: number): boolean {
  const f = flags & CORE & ~URG;
  return f === SYN || f === (SYN | ACK) || f === RST || f === (RST | ACK) || f === (FIN | ACK) || f === ACK;
}

/** A segment that may open a connection: SYN without ACK. */
export function tcpOpens(flags: number): boolean {
  return (flags & (SYN | ACK | FIN | RST)) === SYN;
}

/** a >= b in sequence space (RFC 1982 serial arithmetic, 32 bits). */
export function seqAtLeast(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}
