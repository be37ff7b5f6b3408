/**
 * A plane's out batch toward its port, owned by the datapath. Beside each datagram it
 * keeps what the plane needs after the send (`refs`: the peer or VTEP it is for; `tags`: a
 * plane-defined integer such as WireGuard's key slot, or -1) and how far the plane has
 * prepared the batch (`prepared`: entries [0, prepared) are whole datagrams, already
 * sealed). Entries the kernel could not take yet (-EAGAIN) stay, prepared, and go out
 * first when the socket is writable again; compact() moves them to the front.
 */
import { PacketBatch } from '../buffer/batch.js';
import { ENDPOINT_STRIDE } from '../io/endpoint.js';

export class OutBatch extends PacketBatch {
  readonly refs: unknown[];
  readonly tags: Int32Array;
  prepared = 0;

  constructor(capacity: number) {
    super(capacity);
    this.refs = new Array<unknown>(capacity).fill(null);
    this.tags = new Int32Array(capacity);
  }

  /** Appends a datagram with its endpoint, ref and tag; -1 when full. */
  add(slot: number, offset: number, length: number, endpoints: Uint8Array, epOffset: number, ref: unknown, tag: number): number {
    const i = this.push(slot, offset, length);
    if (i < 0) return -1;
    this.setEndpoint(i, endpoints, epOffset);
    this.refs[i] = ref;
    this.tags[i] = tag;
    return i;
  }

  /** Moves entry `from` to index `to` (to <= from), endpoint, ref and tag included. */
  moveEntry(from: number, to: number): void {
    if (from === to) return;
    this.slots[to] = this.slots[from];
    this.offsets[to] = this.offsets[from];
    this.lengths[to] = this.lengths[from];
    this.refs[to] = this.refs[from];
    this.tags[to] = this.tags[from];
    this.endpoints.copyWithin(to * ENDPOINT_STRIDE, from * ENDPOINT_STRIDE, (from + 1) * ENDPOINT_STRIDE);
  }

  /** Drops the refs of entries [from, to) so the batch holds no stale peers. */
  clearRefs(from: number, to: number): void {
    for (let i = from; i < to; i++) this.refs[i] = null;
  }
}
