/**
 * How far a tracked TCP connection has closed, per direction: a direction's FIN is
 * "sent" when seen, and "acked" once the other side acknowledges the sequence number
 * just past it. From those four bits come the kernel's closing states (FIN_WAIT,
 * CLOSE_WAIT, LAST_ACK, TIME_WAIT) without tracking windows. Typed arrays by entry.
 */
import { TCPFlag } from '../packet/constants.js';
import { CtState, seqAtLeast } from './conntrack-states.js';

const FIN_SENT = [1, 2];
const FIN_ACKED = [4, 8];

export class TcpClosing {
  private readonly bits: Uint8Array;
  /** Per direction (entry * 2 + dir): the sequence number just past that direction's FIN. */
  private readonly finEnd: Uint32Array;

  constructor(capacity: number) {
    this.bits = new Uint8Array(capacity);
    this.finEnd = new Uint32Array(capacity * 2);
  }

  /** A new connection on entry e (a new flow, or a reopened tuple). */
  reset(e: number): void {
    this.bits[e] = 0;
  }

  /**
   * Takes a segment of an ESTABLISHED or closing connection in direction dir; returns the
   * state that follows.
   */
  track(e: number, dir: number, flags: number, seq: number, ack: number, payloadLength: number): number {
    let bits = this.bits[e];
    const other = dir ^ 1;
    if ((flags & TCPFlag.FIN) !== 0 && (bits & FIN_SENT[dir]) === 0) {
      bits |= FIN_SENT[dir];
      this.finEnd[e * 2 + dir] = (seq + payloadLength + 1) >>> 0;
    }
    if ((flags & TCPFlag.ACK) !== 0 && (bits & FIN_SENT[other]) !== 0 && seqAtLeast(ack, this.finEnd[e * 2 + other])) bits |= FIN_ACKED[other];
    this.bits[e] = bits;
    const sent = (bits & 1 ? 1 : 0) + (bits & 2 ? 1 : 0);
    const acked = (bits & 4 ? 1 : 0) + (bits & 8 ? 1 : 0);
    if (sent === 0) return CtState.TcpEstablished;
    if (sent === 2) return acked === 2 ? CtState.TcpTimeWait : CtState.TcpLastAck;
    return acked === 1 ? CtState.TcpCloseWait : CtState.TcpFinWait;
  }
}
