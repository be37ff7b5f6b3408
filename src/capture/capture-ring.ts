/**
 * The bounded buffer between the data path and a capture's reader: one preallocated byte
 * area (a fixed budget, 4 MiB by default) and a fixed table of records describing what it
 * holds, both rings. The data path appends (copying a packet in, never allocating); the
 * reader takes records from the front. When either is full the append fails and the
 * caller counts a loss: a slow reader loses the newest packets, it never stalls the
 * tunnel and never grows memory.
 */

export const DEFAULT_RING_BYTES = 4 * 1024 * 1024;

/** Record kinds beside the capture points (0..3, the pcapng interface ids). */
export const SECRETS_RECORD = 255;

export class CaptureRing {
  readonly bytes: Uint8Array;
  /** Per record: where its bytes start, their length, the packet's original length. */
  readonly start: Int32Array;
  readonly length: Int32Array;
  readonly origLen: Int32Array;
  /** Capture point (pcapng interface id) or SECRETS_RECORD. */
  readonly kind: Uint8Array;
  readonly direction: Uint8Array;
  readonly reason: Uint16Array;
  /** Microseconds since the epoch. */
  readonly timestamp: Float64Array;
  readonly plane: Array<string | null>;
  readonly ref: unknown[];
  private head = 0;
  private countValue = 0;
  private tail = 0;

  constructor(
    byteBudget = DEFAULT_RING_BYTES,
    readonly maxRecords = Math.max(64, byteBudget >>> 6),
  ) {
    this.bytes = new Uint8Array(byteBudget);
    this.start = new Int32Array(maxRecords);
    this.length = new Int32Array(maxRecords);
    this.origLen = new Int32Array(maxRecords);
    this.kind = new Uint8Array(maxRecords);
    this.direction = new Uint8Array(maxRecords);
    this.reason = new Uint16Array(maxRecords);
    this.timestamp = new Float64Array(maxRecords);
    this.plane = new Array<string | null>(maxRecords).fill(null);
    this.ref = new Array<unknown>(maxRecords).fill(null);
  }

  get count(): number {
    return this.countValue;
  }

  /** Index of the oldest record (valid while count > 0). */
  get first(): number {
    return this.head;
  }

  /**
   * Reserves `len` contiguous bytes for a new record and returns its index, or -1 when the
   * ring has no room (the caller counts a loss). The caller fills bytes[start[i]…] and the
   * record's fields.
   */
  append(len: number): number {
    const cap = this.bytes.length;
    if (this.countValue === this.maxRecords || len > cap) return -1;
    let at: number;
    if (this.countValue === 0) {
      at = 0;
    } else {
      const headByte = this.start[this.head];
      if (this.tail > headByte) {
        if (this.tail + len <= cap) at = this.tail;
        else if (len <= headByte) at = 0;
        else return -1;
      } else if (this.tail + len <= headByte) {
        at = this.tail;
      } else {
        return -1;
      }
    }
    let i = this.head + this.countValue;
    if (i >= this.maxRecords) i -= this.maxRecords;
    this.start[i] = at;
    this.length[i] = len;
    this.tail = at + len;
    this.countValue++;
    return i;
  }

  /** Forgets the oldest record. */
  shift(): void {
    if (this.countValue === 0) return;
    this.plane[this.head] = null;
    this.ref[this.head] = null;
    this.head = this.head + 1 === this.maxRecords ? 0 : this.head + 1;
    this.countValue--;
    if (this.countValue === 0) this.tail = 0;
  }
}
