/**
 * The load balancer as the datapath's translation stage. Per packet:
 *
 * - a flow's first packet to a VIP: the service (one probe of the service index), a
 *   backend (affinity, then Maglev / random / round-robin), a SNAT port when the backend
 *   is reached through the host (or Snat = always), one connection-table entry, DNAT
 *   (+SNAT) in place: Verdict.Forward, and the datapath routes it to the backend;
 * - every later packet of the flow, either direction: one lookup, state tracking, the
 *   rewrite to the other direction's inverted tuple (incremental checksums);
 * - ICMP errors about a flow: translated (stage-icmp.ts);
 * - no service, no backend, a full table: the client gets a RST or a port unreachable
 *   at once (answer-plane.ts), never silence;
 * - a failed backend: its UDP flows move on their next packet, its TCP clients get a RST;
 *   a removed one keeps its TCP flows until they end (its UDP flows move); a drained one
 *   keeps its flows and gets no new ones;
 * - anything malformed or odd that is addressed to the LB is dropped with a reason;
 *   anything else passes untouched.
 *
 * No allocation per packet: parse views are fields, tables are typed arrays.
 */
import { type TranslateStage, Verdict } from '../datapath/plane.js';
import { RouteKind, type RouteTable } from '../datapath/route-table.js';
import { IPProto, TCPFlag } from '../packet/constants.js';
import { IPPacket, parseIP } from '../packet/ip.js';
import { parseTCP, TCPHeader } from '../packet/tcp.js';
import { parseUDP, UDPHeader } from '../packet/udp.js';
import { DropReason } from '../stats/drop-reasons.js';
import type { AnswerPlane } from './answer-plane.js';
import type { Balancer } from './balancer.js';
import { Conntrack, CtStatus } from './conntrack.js';
import { CtState, Dir, tcpFlagsValid, tcpOpens } from './conntrack-states.js';
import { finishHash, mixAddress, mixWord } from './hash.js';
import { rewriteTuple } from './nat.js';
import type { AddressRanges } from './ranges.js';
import { type Backend, Counter, type Service } from './service.js';
import type { SnatPorts } from './snat-ports.js';
import { StageIcmp } from './stage-icmp.js';

/** What the stage needs from health checking (health.ts). */
export interface HealthHooks {
  /** A backend showed it is down (a UDP port unreachable): out of the table at once. */
  passiveFailure(b: Backend, now: number): void;
  tick(now: number): void;
}

interface LbStageOptions {
  balancer: Balancer;
  conntrack: Conntrack;
  answers: AnswerPlane;
  snatPorts: SnatPorts;
  ranges: AddressRanges;
  snatV4: Uint8Array | null;
  snatV6: Uint8Array | null;
  /** The datapath's route table: a backend routed to a plane is a peer's (no SNAT unless Snat = always). */
  routes: RouteTable | null;
  health: HealthHooks | null;
  /** Entries expired per tick at most (default 8192). */
  expireBudget?: number;
}

interface LbStageStats {
  newFlows: number;
  /** Packets translated client → backend, and backend → client. */
  forward: number;
  reverse: number;
  /** Flows moved to another backend (UDP of a removed or failed backend; a TCP SYN retried). */
  moved: number;
  /** Flows reset because their backend failed. */
  resetFailed: number;
  icmpTranslated: number;
  passiveFailures: number;
  echoReplies: number;
}

/** Seed of the flow hash Maglev indexes with: fixed, so choices are the same on every run. */
const FLOW_SEED = 0x666c6f77;

export class LbStage implements TranslateStage {
  readonly stats: LbStageStats = { newFlows: 0, forward: 0, reverse: 0, moved: 0, resetFailed: 0, icmpTranslated: 0, passiveFailures: 0, echoReplies: 0 };
  readonly balancer: Balancer;
  readonly ct: Conntrack;
  readonly answers: AnswerPlane;
  readonly snatPorts: SnatPorts;
  ranges: AddressRanges;
  snatV4: Uint8Array | null;
  snatV6: Uint8Array | null;
  routes: RouteTable | null;
  health: HealthHooks | null;
  /** Flows whose replies are not addressed to a SNAT address: while any exists, every packet is looked up. */
  private nonSnatFlows = 0;
  private readonly expireBudget: number;
  private readonly ip = new IPPacket();
  private readonly tcp = new TCPHeader();
  private readonly udp = new UDPHeader();
  private readonly icmpPath: StageIcmp;

  constructor(options: LbStageOptions) {
    this.balancer = options.balancer;
    this.ct = options.conntrack;
    this.answers = options.answers;
    this.snatPorts = options.snatPorts;
    this.ranges = options.ranges;
    this.snatV4 = options.snatV4;
    this.snatV6 = options.snatV6;
    this.routes = options.routes;
    this.health = options.health;
    this.expireBudget = options.expireBudget ?? 8192;
    this.icmpPath = new StageIcmp(this);
    this.ct.onRelease = (e) => this.released(e);
  }

  translate(slab: Uint8Array, off: number, len: number, _origin: number, now: number): number {
    if (this.answers.delivering) return Verdict.Forward;
    const version = len > 0 ? slab[off] >>> 4 : 0;
    if (version === 4 ? len < 20 : version === 6 ? len < 40 : true) return Verdict.Pass; // the datapath's to judge
    const ip = this.ip;
    const r = parseIP(slab, off, len, ip);
    if (r !== DropReason.None) return this.ranges.contains(version, slab, off + (version === 4 ? 16 : 24)) ? -r : Verdict.Pass;
    const family = ip.version;
    const toUs = this.ranges.contains(family, slab, ip.dstOffset);
    if (ip.isFragment) return toUs ? -DropReason.Fragment : Verdict.Pass;
    const proto = ip.protocol;
    if (proto === IPProto.TCP || proto === IPProto.UDP) return this.transport(slab, off, len, proto, toUs, now);
    if ((proto === IPProto.ICMP && family === 4) || (proto === IPProto.ICMPv6 && family === 6)) return this.icmpPath.handle(slab, off, ip, toUs, now);
    return toUs ? -DropReason.UnsupportedProtocol : Verdict.Pass;
  }

  tick(now: number): void {
    this.ct.expire(now, this.expireBudget);
    this.balancer.affinity.expire(now, 1024);
    this.health?.tick(now);
  }

  /** Flows that are not SNATed (peers' backends): for tests and stats. */
  get unsnatedFlows(): number {
    return this.nonSnatFlows;
  }

  // ------------------------------------------------------------------ TCP and UDP

  private transport(slab: Uint8Array, off: number, len: number, proto: number, toUs: boolean, now: number): number {
    const ip = this.ip;
    const l4Off = ip.payloadOffset;
    const l4Len = ip.payloadLength;
    const tcp = proto === IPProto.TCP;
    const r = tcp ? parseTCP(slab, l4Off, l4Len, this.tcp) : parseUDP(slab, l4Off, l4Len, this.udp);
    if (r !== DropReason.None) return toUs ? -r : Verdict.Pass;
    const sport = tcp ? this.tcp.srcPort : this.udp.srcPort;
    const dport = tcp ? this.tcp.dstPort : this.udp.dstPort;
    const family = ip.version;
    const node = toUs || this.nonSnatFlows > 0 ? this.ct.lookup(proto, family, slab, ip.srcOffset, sport, slab, ip.dstOffset, dport, now) : -1;
    if (node < 0 && !toUs) return Verdict.Pass;
    if (tcp && !tcpFlagsValid(this.tcp.flags)) return this.dropFlow(node, DropReason.LbBadTcpFlags);
    if (node >= 0) return this.established(slab, off, len, node, proto, now);
    const svc = this.balancer.index.find(proto, family, slab, ip.dstOffset, dport);
    if (svc === null) {
      // As a host without a listener answers. To the SNAT address it is a reply ferry has no flow for.
      this.refuse(slab, off, proto, now);
      return this.isSnatAddress(family, slab, ip.dstOffset) ? -DropReason.LbNoConnection : -DropReason.LbNoService;
    }
    if (tcp && !tcpOpens(this.tcp.flags)) {
      // A segment of a connection ferry does not know (it expired, or ferry restarted).
      this.refuse(slab, off, proto, now);
      return this.countDrop(svc, null, DropReason.LbNoConnection);
    }
    return this.newFlow(slab, off, len, svc, proto, sport, dport, now);
  }

  private newFlow(slab: Uint8Array, off: number, len: number, svc: Service, proto: number, sport: number, dport: number, now: number): number {
    const ip = this.ip;
    const family = ip.version;
    const hash = flowHash(proto, family, slab, ip.srcOffset, sport, ip.dstOffset, dport);
    const b = this.balancer.pick(svc, hash, slab, ip.srcOffset, now);
    if (b === null) {
      this.refuse(slab, off, proto, now);
      return this.countDrop(svc, null, DropReason.LbNoBackend);
    }
    const snat = this.snatAddressFor(svc, b);
    const port = this.replyPort(proto, family, b, snat, slab, ip.srcOffset, sport, now);
    if (port < 0) {
      this.refuse(slab, off, proto, now);
      return this.countDrop(svc, b, DropReason.LbSnatPortsExhausted);
    }
    const ct = this.ct;
    const e = ct.allocate(proto, family, now);
    if (e < 0) {
      this.refuse(slab, off, proto, now);
      return this.countDrop(svc, b, DropReason.LbConntrackFull);
    }
    ct.setTuple(e, Dir.Original, slab, ip.srcOffset, sport, slab, ip.dstOffset, dport);
    if (snat !== null) ct.setTuple(e, Dir.Reply, b.address, 0, b.port, snat, 0, port);
    else ct.setTuple(e, Dir.Reply, b.address, 0, b.port, slab, ip.srcOffset, sport);
    ct.link(e, proto === IPProto.TCP ? CtState.TcpSynSent : CtState.Udp, now);
    if (snat !== null) ct.status[e] |= CtStatus.Snat;
    else this.nonSnatFlows++;
    ct.service[e] = svc.id;
    ct.backend[e] = b.id;
    svc.flows++;
    b.flows++;
    svc.counters[Counter.Connections]++;
    b.counters[Counter.Connections]++;
    this.stats.newFlows++;
    return this.rewrite(slab, off, len, e, Dir.Original, svc, b);
  }

  private established(slab: Uint8Array, off: number, len: number, node: number, proto: number, now: number): number {
    const ct = this.ct;
    const e = node >>> 1;
    const dir = node & 1;
    const svc = this.balancer.services[ct.service[e]];
    let b = this.balancer.backends[ct.backend[e]];
    if (svc === undefined || b === undefined || svc.deleted) {
      ct.remove(e);
      if (dir === Dir.Reply) return -DropReason.LbNoConnection;
      this.refuse(slab, off, proto, now);
      return -DropReason.LbNoService;
    }
    const tcp = proto === IPProto.TCP;
    const flags = this.tcp.flags;
    if (dir === Dir.Original) {
      const state = ct.state[e];
      const reopening = tcp && tcpOpens(flags) && (state === CtState.TcpSynSent || state === CtState.TcpTimeWait || state === CtState.TcpClose);
      if (reopening ? !b.eligible : !b.healthy || (!tcp && !b.configured)) {
        if (tcp && !reopening) {
          // The backend failed under an open connection: tell the client now.
          this.stats.resetFailed++;
          if ((flags & TCPFlag.RST) === 0) this.answers.reset(slab, off, this.ip.version, this.ip.payloadOffset, flags, this.tcp.seq, this.tcp.ack, this.tcp.payloadLength);
          ct.remove(e);
          return this.countDrop(svc, b, DropReason.LbBackendFailed);
        }
        const moved = this.move(e, svc, b, now);
        if (moved === null) {
          this.refuse(slab, off, proto, now);
          ct.remove(e);
          return this.countDrop(svc, b, DropReason.LbNoBackend);
        }
        b = moved;
      }
    }
    if (tcp) {
      if (dir === Dir.Reply && (flags & TCPFlag.RST) !== 0 && ct.state[e] === CtState.TcpSynSent) {
        b.counters[Counter.Refused]++;
        svc.counters[Counter.Refused]++;
      }
      ct.trackTcp(e, dir, flags, this.tcp.seq, this.tcp.ack, this.tcp.payloadLength, now);
    } else {
      ct.trackUdp(e, dir, now);
    }
    return this.rewrite(slab, off, len, e, dir, svc, b);
  }

  /** Rewrites a packet of entry e travelling in dir to the inverse of the other direction's tuple. */
  private rewrite(slab: Uint8Array, off: number, len: number, e: number, dir: number, svc: Service, b: Backend): number {
    const ct = this.ct;
    const other = dir ^ 1;
    const a = ct.addrOffset(e, other);
    const ip = this.ip;
    rewriteTuple(slab, off, ip.version, ip.protocol, ip.payloadOffset, ip.payloadLength, ct.addrs, a + 16, ct.dport(e, other), a, ct.sport(e, other));
    ct.packets[e * 2 + dir]++;
    ct.bytes[e * 2 + dir] += len;
    const pc = dir === Dir.Original ? Counter.PacketsIn : Counter.PacketsOut;
    svc.counters[pc]++;
    svc.counters[pc + 1] += len;
    b.counters[pc]++;
    b.counters[pc + 1] += len;
    if (dir === Dir.Original) this.stats.forward++;
    else this.stats.reverse++;
    return Verdict.Forward;
  }

  /** Moves entry e of svc from backend `from` to a newly picked one; null when none is eligible. */
  private move(e: number, svc: Service, from: Backend, now: number): Backend | null {
    const ct = this.ct;
    const ip = this.ip;
    const proto = ct.proto[e];
    const family = ip.version;
    const o = ct.addrOffset(e, Dir.Original);
    const hash = flowHash(proto, family, ct.addrs, o, ct.sport(e, Dir.Original), o + 16, ct.dport(e, Dir.Original));
    const to = this.balancer.pick(svc, hash, ct.addrs, o, now);
    if (to === null) return null;
    const snat = this.snatAddressFor(svc, to);
    const port = this.replyPort(proto, family, to, snat, ct.addrs, o, ct.sport(e, Dir.Original), now);
    if (port < 0) return null;
    ct.unlinkReply(e);
    const wasSnat = (ct.status[e] & CtStatus.Snat) !== 0;
    if (snat !== null) ct.setTuple(e, Dir.Reply, to.address, 0, to.port, snat, 0, port);
    else ct.setTuple(e, Dir.Reply, to.address, 0, to.port, ct.addrs, o, ct.sport(e, Dir.Original));
    ct.linkReply(e);
    if (wasSnat && snat === null) {
      ct.status[e] &= ~CtStatus.Snat;
      this.nonSnatFlows++;
    } else if (!wasSnat && snat !== null) {
      ct.status[e] |= CtStatus.Snat;
      this.nonSnatFlows--;
    }
    ct.backend[e] = to.id;
    to.flows++;
    to.counters[Counter.Connections]++;
    this.balancer.release(-1, from.id);
    this.stats.moved++;
    return to;
  }

  // ------------------------------------------------------------------ helpers

  private isSnatAddress(family: number, buf: Uint8Array, off: number): boolean {
    const snat = family === 4 ? this.snatV4 : this.snatV6;
    if (snat === null) return false;
    for (let i = 0; i < (family === 4 ? 4 : 16); i++) if (snat[i] !== buf[off + i]) return false;
    return true;
  }

  /** The SNAT address a flow of svc to backend b needs, or null (a peer's backend without Snat = always). */
  snatAddressFor(svc: Service, b: Backend): Uint8Array | null {
    const snat = b.family === 4 ? this.snatV4 : this.snatV6;
    if (snat === null || svc.snatAlways) return snat;
    const routes = this.routes;
    if (routes === null) return snat;
    const route = b.family === 4 ? routes.lookupV4(b.address, 0) : routes.lookupV6(b.address, 0);
    return route !== undefined && route.kind === RouteKind.Plane ? null : snat;
  }

  /**
   * The port the backend will answer to: a free SNAT port, or the client's own port when
   * there is no SNAT (then the REPLY tuple must not be taken already). -1: none.
   */
  private replyPort(proto: number, family: number, b: Backend, snat: Uint8Array | null, cbuf: Uint8Array, coff: number, cport: number, now: number): number {
    if (snat !== null) return this.snatPorts.pick(this.ct, proto, family, b.address, 0, b.port, snat, 0, now);
    return this.ct.lookup(proto, family, b.address, 0, b.port, cbuf, coff, cport, now) < 0 ? cport : -1;
  }

  /** Answers a packet nobody will serve: a RST for TCP (never for a RST), a port unreachable for UDP. */
  refuse(slab: Uint8Array, off: number, proto: number, now: number): void {
    const ip = this.ip;
    if (proto === IPProto.TCP) {
      const t = this.tcp;
      if ((t.flags & TCPFlag.RST) === 0) this.answers.reset(slab, off, ip.version, ip.payloadOffset, t.flags, t.seq, t.ack, t.payloadLength);
      return;
    }
    if (this.icmpPath.errorAllowed(slab, ip)) this.answers.unreachable(slab, off, ip.totalLength, ip.version, now);
  }

  /** Counts a drop against a service (and backend) and returns it as a verdict. */
  countDrop(svc: Service | undefined | null, b: Backend | undefined | null, reason: number): number {
    if (svc) svc.drops[reason]++;
    if (b) b.drops[reason]++;
    return -reason;
  }

  private dropFlow(node: number, reason: number): number {
    if (node < 0) return -reason;
    const e = node >>> 1;
    return this.countDrop(this.balancer.services[this.ct.service[e]], this.balancer.backends[this.ct.backend[e]], reason);
  }

  private released(e: number): void {
    if ((this.ct.status[e] & CtStatus.Snat) === 0) this.nonSnatFlows--;
    this.balancer.release(this.ct.service[e], this.ct.backend[e]);
  }
}

/** Deterministic hash of a flow's ORIGINAL tuple (Maglev's input). */
function flowHash(proto: number, family: number, buf: Uint8Array, srcOff: number, sport: number, dstOff: number, dport: number): number {
  const alen = family === 4 ? 4 : 16;
  let h = mixWord(FLOW_SEED, (proto << 8) | family);
  h = mixWord(h, (sport << 16) | dport);
  h = mixAddress(h, buf, srcOff, alen);
  h = mixAddress(h, buf, dstOff, alen);
  return finishHash(h, alen * 2 + 6);
}
