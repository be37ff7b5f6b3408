/** The datagrams of udp-batch.test.ts: a 4-byte big-endian sequence number, then a
 * payload whose size and bytes both derive from it, so loss, reordering and corruption
 * are all visible to the receiver. Shapes: "varied" changes the size every datagram
 * (nothing for GSO to group); "runs" keeps it for 37 datagrams at a time (GSO groups,
 * broken at 64 and at every size change); "large" is 1400 bytes throughout; "mixed"
 * alternates runs of 37 datagrams of 1200 bytes and of 3000 bytes (larger than a
 * 1500-byte path MTU: fragmented, never a GSO segment). */
export type SeqShape = 'varied' | 'runs' | 'large' | 'mixed';

/** Largest datagram of any shape (helpers size their pool slots for it). */
export const SEQ_MAX_SIZE = 3000;

export function isSeqShape(x: string): x is SeqShape {
  return x === 'varied' || x === 'runs' || x === 'large' || x === 'mixed';
}

export function seqSize(seq: number, shape: SeqShape = 'varied'): number {
  if (shape === 'runs') return 8 + ((Math.floor(seq / 37) * 97) % 1400);
  if (shape === 'large') return 1400;
  if (shape === 'mixed') return Math.floor(seq / 37) % 2 === 0 ? 1200 : 3000;
  return 8 + ((seq * 13) % 1200);
}

export function writeSeq(buf: Uint8Array, off: number, seq: number, shape: SeqShape = 'varied'): number {
  const len = seqSize(seq, shape);
  buf[off] = seq >>> 24;
  buf[off + 1] = (seq >>> 16) & 0xff;
  buf[off + 2] = (seq >>> 8) & 0xff;
  buf[off + 3] = seq & 0xff;
  for (let j = 4; j < len; j++) buf[off + j] = (seq + j) & 0xff;
  return len;
}

export function readSeq(buf: Uint8Array, off: number): number {
  return ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** True when the datagram at off is exactly what writeSeq makes for its sequence number. */
export function checkSeq(buf: Uint8Array, off: number, len: number, shape: SeqShape = 'varied'): boolean {
  const seq = readSeq(buf, off);
  if (len !== seqSize(seq, shape)) return false;
  for (let j = 4; j < len; j++) if (buf[off + j] !== ((seq + j) & 0xff)) return false;
  return true;
}
