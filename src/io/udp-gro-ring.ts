/**
 * The GRO ring of a UDP socket: caller memory in which native/src/udp_gro.c keeps the
 * messages one recvmmsg read (each may hold many coalesced datagrams) until every
 * datagram has been handed out, one per pool slot. Only its header is read here.
 */

/** Int32 fields of the ring header (native/src/udp_gro.c gro_header). */
const RING_COUNT = 0;
const RING_COALESCED = 3;
const RING_DATAGRAMS = 4;
const HEADER_FIELDS = 8;

export class GroRing {
  /** Handed to udpRecvBatchGro as is. */
  readonly bytes: Uint8Array;
  private readonly header: Int32Array;

  /** size: the addon's UDP_GRO_RING_BYTES (zeroed: an empty ring). */
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
    this.header = new Int32Array(this.bytes.buffer, 0, HEADER_FIELDS);
  }

  /** True while datagrams already read wait in the ring. */
  get pending(): boolean {
    return this.header[RING_COUNT] > 0;
  }

  /** The last receive: messages read that held more than one datagram, and the datagrams in those. */
  get lastCoalesced(): number {
    return this.header[RING_COALESCED];
  }

  get lastDatagrams(): number {
    return this.header[RING_DATAGRAMS];
  }
}
