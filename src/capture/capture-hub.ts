/**
 * The datapath's capture tap while at least one capture runs: it fans each tapped packet
 * out to the running sessions. With no session it detaches itself (datapath.capture =
 * null), so nobody listening costs the data path one comparison per site. Per packet it
 * does the shared work once (timestamp, the peer's name, the outer headers, the facts
 * the expression reads) and allocates nothing.
 */
import { CaptureDirection, CapturePoint, type CaptureTap } from '../datapath/capture-tap.js';
import type { CaptureSession } from './capture-session.js';
import { PacketFacts } from './filter-expr.js';
import { OUTER_HEADER_MAX, writeOuterHeaders } from './outer-header.js';

interface CaptureHubOptions {
  /** The datapath whose `capture` field the hub sets while sessions run. */
  target: { capture: CaptureTap | null };
  /** Names a peer or VTEP (a WireGuard public key in base64, a VTEP's address); null for others. */
  describe?: (ref: unknown) => string | null;
  /** The peer or VTEP an inbound datagram belongs to, when its plane can tell before decrypting. */
  attribute?: (plane: string, slab: Uint8Array, offset: number, length: number) => unknown;
  /** Microseconds since the epoch. */
  clock?: () => number;
}

const EMPTY = new Uint8Array(0);

export class CaptureHub implements CaptureTap {
  private readonly sessions: CaptureSession[] = [];
  private readonly labels = new WeakMap<object, string | null>();
  private readonly header = new Uint8Array(OUTER_HEADER_MAX);
  private readonly facts = new PacketFacts();
  private readonly describeRef: (ref: unknown) => string | null;
  private readonly attribute: ((plane: string, slab: Uint8Array, offset: number, length: number) => unknown) | undefined;
  private readonly clock: () => number;
  /** Bound once: sessions name refs through the hub's cache. */
  readonly describe: (ref: unknown) => string | null;

  constructor(private readonly options: CaptureHubOptions) {
    this.describeRef = options.describe ?? (() => null);
    this.attribute = options.attribute;
    this.clock = options.clock ?? (() => Math.round((performance.timeOrigin + performance.now()) * 1000));
    this.describe = (ref) => this.label(ref);
  }

  get running(): number {
    return this.sessions.length;
  }

  /** True when a running capture asked for the WireGuard secrets (--keys). */
  get wantsSecrets(): boolean {
    for (const s of this.sessions) if (s.options.keys) return true;
    return false;
  }

  add(session: CaptureSession): void {
    this.sessions.push(session);
    this.options.target.capture = this;
  }

  remove(session: CaptureSession): void {
    const i = this.sessions.indexOf(session);
    if (i >= 0) this.sessions.splice(i, 1);
    if (this.sessions.length === 0 && this.options.target.capture === this) this.options.target.capture = null;
  }

  /** A handshake's key log lines, to every --keys capture, ahead of that handshake's packets. */
  secrets(text: string): void {
    const now = this.clock();
    for (const s of this.sessions) s.secrets(text, now);
  }

  packet(point: number, direction: number, slab: Uint8Array, offset: number, length: number, plane: string | null, ref: unknown): void {
    this.offer(point, direction, 0, slab, offset, length, plane, ref, EMPTY, 0);
  }

  datagram(direction: number, slab: Uint8Array, offset: number, length: number, endpoints: Uint8Array, epOffset: number, localPort: number, plane: string, ref: unknown): void {
    if (ref === null && direction === CaptureDirection.ToHost && this.attribute !== undefined) ref = this.attribute(plane, slab, offset, length);
    const h = writeOuterHeaders(this.header, 0, direction, length, endpoints, epOffset, localPort);
    this.offer(CapturePoint.Outer, direction, 0, slab, offset, length, plane, ref, this.header, h);
  }

  drop(reason: number, direction: number, slab: Uint8Array, offset: number, length: number, plane: string | null, ref: unknown, endpoints: Uint8Array | null, epOffset: number, localPort: number): void {
    const h = endpoints === null ? 0 : writeOuterHeaders(this.header, 0, direction, length, endpoints, epOffset, localPort);
    this.offer(CapturePoint.Drop, direction, reason, slab, offset, length, plane, ref, this.header, h);
  }

  private offer(point: number, direction: number, reason: number, slab: Uint8Array, offset: number, length: number, plane: string | null, ref: unknown, hdr: Uint8Array, hdrLen: number): void {
    const sessions = this.sessions;
    const label = ref === null || ref === undefined ? null : this.label(ref);
    let loaded = false;
    let ip = false;
    let now = 0;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      if (!s.wants(point, plane, label)) continue;
      if (s.options.filter !== null && !loaded) {
        // The expression reads the rebuilt outer headers of a datagram, else the packet.
        ip = hdrLen > 0 ? this.facts.load(hdr, 0, hdrLen) : this.facts.load(slab, offset, length);
        loaded = true;
      }
      if (!s.matches(this.facts, ip)) continue;
      if (now === 0) now = this.clock();
      s.copy(point, direction, reason, now, hdr, hdrLen, slab, offset, length, plane, ref);
    }
  }

  private label(ref: unknown): string | null {
    if (typeof ref !== 'object' || ref === null) return null;
    let l = this.labels.get(ref);
    if (l === undefined) {
      l = this.describeRef(ref);
      this.labels.set(ref, l);
    }
    return l;
  }
}
