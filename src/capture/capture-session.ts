/**
 * One running capture: its options, its ring, and the conversion of what the ring holds
 * into pcapng (a Section Header, one Interface Description per point, then Enhanced
 * Packet and Decryption Secrets blocks in the order they happened). The hub offers it
 * each tapped packet; accept() says whether its filters want it and copy() puts it in
 * the ring, or counts a loss when the ring is full. drain() runs off the data path.
 */
import { CAPTURE_POINT_NAMES, CaptureDirection } from '../datapath/capture-tap.js';
import { dropReasonName } from '../stats/drop-reasons.js';
import { CaptureRing, SECRETS_RECORD } from './capture-ring.js';
import type { CaptureOptions } from './capture-options.js';
import { matchFilter, type PacketFacts } from './filter-expr.js';
import {
  decryptionSecretsSize,
  enhancedPacketSize,
  EPB_INBOUND,
  EPB_OUTBOUND,
  SECRETS_WIREGUARD,
  writeDecryptionSecrets,
  writeEnhancedPacket,
  writeInterfaceDescription,
  writeSectionHeader,
} from './pcapng.js';

const POINT_DESCRIPTIONS = [
  'packets the host sent into the interface and ferry wrote back to it',
  'plaintext entering or leaving a plane (after decryption, decapsulation or translation)',
  'UDP datagrams on the wire (IP and UDP headers rebuilt from the endpoint)',
  'dropped packets, with the reason in the packet comment',
];

const encoder = new TextEncoder();
/** Longest packet comment kept (plane, peer, reason: well under). */
const COMMENT_MAX = 512;

export class CaptureSession {
  readonly ring: CaptureRing;
  /** Packets taken into the ring, packets lost to a full ring, packets written out. */
  captured = 0;
  lost = 0;
  written = 0;
  secretsWritten = 0;
  private headerWritten = false;
  private readonly comment = new Uint8Array(COMMENT_MAX);
  /** A Buffer over the pool's slab, made once: Buffer.copy copies without a view per packet. */
  private slab: Uint8Array | null = null;
  private slabBuffer: Buffer = Buffer.alloc(0);

  constructor(
    readonly options: CaptureOptions,
    readonly ifname: string,
    /** Names a packet's peer or VTEP (a WireGuard public key, a VTEP's address). */
    private readonly describe: (ref: unknown) => string | null,
  ) {
    this.ring = new CaptureRing(options.ringBytes);
  }

  /** True once `count` packets went out: the capture is complete. */
  get complete(): boolean {
    return this.options.count > 0 && this.written >= this.options.count;
  }

  /** Point, plane and peer/VTEP filters (no packet bytes needed). */
  wants(point: number, plane: string | null, label: string | null): boolean {
    const o = this.options;
    if ((o.points & (1 << point)) === 0) return false;
    if (o.plane !== null && plane !== o.plane) return false;
    if (o.peer !== null && label !== o.peer) return false;
    if (o.vtep !== null && label !== o.vtep) return false;
    return true;
  }

  /** The expression, on facts the hub loaded once for every session. `ip` false: not an IP packet. */
  matches(facts: PacketFacts, ip: boolean): boolean {
    const f = this.options.filter;
    return f === null || (ip && matchFilter(f, facts));
  }

  /**
   * Copies a packet into the ring: `hdrLen` bytes of `hdr` (rebuilt outer headers, or 0)
   * then the packet, cut at the snap length. False when the ring is full (counted lost).
   */
  copy(point: number, direction: number, reason: number, timestampUs: number, hdr: Uint8Array, hdrLen: number, slab: Uint8Array, offset: number, length: number, plane: string | null, ref: unknown): boolean {
    const total = hdrLen + length;
    const caplen = total < this.options.snaplen ? total : this.options.snaplen;
    const ring = this.ring;
    const i = caplen > 0 ? ring.append(caplen) : -1;
    if (i < 0) {
      this.lost++;
      return false;
    }
    const at = ring.start[i];
    const bytes = ring.bytes;
    const h = hdrLen < caplen ? hdrLen : caplen;
    for (let k = 0; k < h; k++) bytes[at + k] = hdr[k];
    if (caplen > h) this.source(slab).copy(bytes, at + h, offset, offset + caplen - h);
    ring.origLen[i] = total;
    ring.kind[i] = point;
    ring.direction[i] = direction;
    ring.reason[i] = reason;
    ring.timestamp[i] = timestampUs;
    ring.plane[i] = plane;
    ring.ref[i] = ref;
    this.captured++;
    return true;
  }

  private source(slab: Uint8Array): Buffer {
    if (slab !== this.slab) {
      this.slab = slab;
      this.slabBuffer = Buffer.from(slab.buffer, slab.byteOffset, slab.byteLength);
    }
    return this.slabBuffer;
  }

  /** A WireGuard key log (Decryption Secrets block) in order with the packets. */
  secrets(text: string, timestampUs: number): boolean {
    if (!this.options.keys) return false;
    const data = encoder.encode(text);
    const ring = this.ring;
    const i = ring.append(data.length);
    if (i < 0) {
      this.lost++;
      return false;
    }
    ring.bytes.set(data, ring.start[i]);
    ring.kind[i] = SECRETS_RECORD;
    ring.origLen[i] = data.length;
    ring.timestamp[i] = timestampUs;
    return true;
  }

  /**
   * Writes pcapng into out from offset 0: the header blocks first time, then records from
   * the ring while they fit (and the count allows). Returns the bytes written.
   */
  drain(out: Uint8Array): number {
    let p = 0;
    if (!this.headerWritten) {
      p = writeSectionHeader(out, 0, `ferry capture ${this.ifname}`);
      for (let id = 0; id < CAPTURE_POINT_NAMES.length; id++) {
        p = writeInterfaceDescription(out, p, CAPTURE_POINT_NAMES[id], `${this.ifname} ${CAPTURE_POINT_NAMES[id]}: ${POINT_DESCRIPTIONS[id]}`, this.options.snaplen);
      }
      this.headerWritten = true;
    }
    const ring = this.ring;
    while (ring.count > 0 && !this.complete) {
      const i = ring.first;
      const len = ring.length[i];
      const at = ring.start[i];
      if (ring.kind[i] === SECRETS_RECORD) {
        if (p + decryptionSecretsSize(len) > out.length) break;
        p = writeDecryptionSecrets(out, p, SECRETS_WIREGUARD, ring.bytes, at, len);
        this.secretsWritten++;
      } else {
        const commentLen = this.writeComment(i);
        if (p + enhancedPacketSize(len, commentLen) > out.length) break;
        const dir = ring.direction[i];
        const flags = dir === CaptureDirection.ToHost ? EPB_INBOUND : dir === CaptureDirection.ToNetwork ? EPB_OUTBOUND : 0;
        p = writeEnhancedPacket(out, p, ring.kind[i], ring.timestamp[i], ring.bytes, at, len, ring.origLen[i], flags, this.comment, 0, commentLen);
        this.written++;
      }
      ring.shift();
    }
    return p;
  }

  /** Records left unsent when the capture ends at its count. */
  discardRest(): number {
    const n = this.ring.count;
    while (this.ring.count > 0) this.ring.shift();
    return n;
  }

  /** "plane=wireguard peer=KEY reason=wg_source_not_allowed" into this.comment; its length. */
  private writeComment(i: number): number {
    const ring = this.ring;
    const plane = ring.plane[i];
    const label = ring.ref[i] === null ? null : this.describe(ring.ref[i]);
    const reason = ring.reason[i];
    let text = plane === null ? '' : `plane=${plane}`;
    if (label !== null) text += `${text === '' ? '' : ' '}${plane === 'wireguard' ? 'peer' : plane === 'vxlan' ? 'vtep' : 'ref'}=${label}`;
    if (reason !== 0) text += `${text === '' ? '' : ' '}reason=${dropReasonName(reason)}`;
    if (text === '') return 0;
    return encoder.encodeInto(text, this.comment).written;
  }
}
